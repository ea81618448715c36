using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Api;

/// <summary>The services every handler needs, bundled (one singleton, resolved per request by minimal APIs).</summary>
public sealed class ApiServices(
    VmPoolerOptions options,
    PoolDirectory pools,
    IInventory inventory,
    TimeProvider timeProvider,
    ILogger<ApiServices> logger)
{
    public VmPoolerOptions Options { get; } = options;
    public PoolDirectory Pools { get; } = pools;
    public IInventory Inventory { get; } = inventory;
    public TimeProvider Time { get; } = timeProvider;
    public ILogger Logger { get; } = logger;

    /// <summary>When the configuration was loaded (for <c>status.uptime</c>).</summary>
    public DateTimeOffset StartedAt { get; } = timeProvider.GetUtcNow();

    /// <summary>True when an <c>:auth:</c> section is configured.</summary>
    public bool AuthConfigured => Options.Auth is not null;
}
