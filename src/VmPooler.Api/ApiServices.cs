using Microsoft.Extensions.Logging;
using VmPooler.Api.Auth;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Tokens;
using VmPooler.Core.Metrics;

namespace VmPooler.Api;

/// <summary>The services every handler needs, bundled (one singleton, resolved per request by minimal APIs).</summary>
public sealed class ApiServices(
    VmPoolerOptions options,
    PoolDirectory pools,
    IInventory inventory,
    ApiStores stores,
    TimeProvider timeProvider,
    ILogger<ApiServices> logger,
    IAuthenticator? authenticator = null,
    VmPoolerMetrics? metrics = null)
{
    public VmPoolerOptions Options { get; } = options;
    public PoolDirectory Pools { get; } = pools;
    public IInventory Inventory { get; } = inventory;
    public ITokenStore Tokens { get; } = stores.Tokens;
    public IVmTaskQueue Tasks { get; } = stores.Tasks;
    public IPoolOverrideStore Overrides { get; } = stores.Overrides;
    public IOnDemandStore OnDemand { get; } = stores.OnDemand;
    public IPoolLeaseStore Leases { get; } = stores.Leases;
    public TimeProvider Time { get; } = timeProvider;
    public ILogger Logger { get; } = logger;

    /// <summary>Where the API's metrics go (spec §8.2); an unobserved instance when none is registered.</summary>
    public VmPoolerMetrics Metrics { get; } = metrics ?? new VmPoolerMetrics();

    /// <summary>Checks Basic-auth credentials; null when no <c>:auth:</c> section is configured.</summary>
    public IAuthenticator? Authenticator { get; } = authenticator;

    /// <summary>When the configuration was loaded (for <c>status.uptime</c>).</summary>
    public DateTimeOffset StartedAt { get; } = timeProvider.GetUtcNow();

    /// <summary>True when an <c>:auth:</c> section is configured.</summary>
    public bool AuthConfigured => Options.Auth is not null;

    /// <summary>The configured pools with their run-time overrides (size, template, clone target) applied, and the overrides.</summary>
    public async Task<(IReadOnlyList<PoolOptions> Pools, PoolOverrides Overrides)> EffectivePoolsAsync(CancellationToken cancellationToken)
    {
        var overrides = await Overrides.GetAsync(cancellationToken);
        return ([.. Pools.Pools.Select(overrides.Apply)], overrides);
    }
}

/// <summary>The stores besides the inventory that the API writes and the manager reads (the managers' leases: the manager writes, the API reads).</summary>
public sealed record ApiStores(ITokenStore Tokens, IVmTaskQueue Tasks, IPoolOverrideStore Overrides, IOnDemandStore OnDemand, IPoolLeaseStore Leases)
{
    /// <summary>The in-memory stores (one process).</summary>
    public static ApiStores InMemory(TimeProvider timeProvider)
        => new(new MemoryTokenStore(), new MemoryVmTaskQueue(), new MemoryPoolOverrideStore(), new MemoryOnDemandStore(timeProvider), new MemoryPoolLeaseStore(timeProvider));
}
