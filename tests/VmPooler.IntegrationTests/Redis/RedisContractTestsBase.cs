using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Redis;
using VmPooler.Tests.Shared;
using VmPooler.Tests.Shared.Inventory;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// The inventory contract against <see cref="RedisInventory"/>: each test gets an inventory under a fresh key prefix on
/// its own connection, connected before the test starts (in <see cref="InitializeAsync"/>, so the synchronous
/// <see cref="CreateInventory"/> hook does not have to wait), and disposed after it.
/// </summary>
public abstract class RedisContractTestsBase : InventoryContractTests
{
    private readonly RedisInventories _inventories = new();
    private RedisConnection? _prepared;

    /// <summary>What <c>redis.server</c> is set to.</summary>
    protected abstract string Endpoints { get; }

    /// <summary>Adjusts each connection's options (TLS, an ACL user made for the test's key prefix …).</summary>
    protected virtual Task<RedisOptions> ConfigureAsync(RedisOptions options) => Task.FromResult(options);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _prepared = await _inventories.ConnectAsync(Endpoints, configure: ConfigureAsync).DefaultTimeout();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _inventories.DisposeAsync();
    }

    protected override IInventory CreateInventory(FakeTimeProvider time, int maxForgottenPerPool)
    {
        if (ReferenceEquals(time, Time) && Interlocked.Exchange(ref _prepared, null) is { } prepared)
        {
            return RedisInventories.Create(prepared, time, maxForgottenPerPool);
        }

        // A second inventory in one test (none of the contract tests needs one today): connect now.
        var connection = _inventories.ConnectAsync(Endpoints, configure: ConfigureAsync).DefaultTimeout().GetAwaiter().GetResult();
        return RedisInventories.Create(connection, time, maxForgottenPerPool);
    }

    protected override Task<IReadOnlyDictionary<string, string>> ReadTagsAsync(IInventory inventory, DateOnly day)
        => inventory.GetTagsAsync(day, CancellationToken.None);
}
