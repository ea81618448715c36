using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Manager;
using VmPooler.Providers.Dummy;
using VmPooler.Redis;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>A pool manager restarted over Redis: the provider keeps its VMs (like a hypervisor), the manager does not.</summary>
public sealed partial class RedisInventoryTests
{
    private const int PoolSize = 5;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReconcileAsync_ManagerRestartedOnNewConnection_DoesNotOverClone(bool filledBeforeRestart)
    {
        var time = new FakeTimeProvider();
        var prefix = RedisFixtures.NewPrefix();
        var pool = new PoolOptions { Name = PoolA, Size = PoolSize, Provider = "dummy", Template = "tpl" };
        var options = new VmPoolerOptions
        {
            Pools = [pool],
            Providers = new Dictionary<string, ProviderOptions> { ["dummy"] = new() { Name = "dummy", ProviderClass = "dummy" } },
        };
        // The VMs boot for 20 s, so the first pass leaves them pending (a clone's own ready check fails while it boots).
        var dummy = new DummyProvider("dummy", new DummyProviderOptions { BootMinTime = TimeSpan.FromSeconds(20), BootMaxTime = TimeSpan.FromSeconds(20) }, time, new Random(1));

        var firstConnection = await _inventories.ConnectAsync(redis.Server.Endpoint, prefix);
        var first = RedisInventories.Create(firstConnection, time);
        await using (var manager = NewReconciler(options, first, dummy, time))
        {
            await PassAsync(manager, pool);
            (await Counts(first, PoolA)).ShouldBe(new PoolCounts(PoolSize, 0, 0, 0));
            if (filledBeforeRestart)
            {
                time.Advance(TimeSpan.FromSeconds(20));
                await PassAsync(manager, pool);
                (await Counts(first, PoolA)).ShouldBe(new PoolCounts(0, PoolSize, 0, 0));
            }
        }

        var cloned = dummy.Vms.Select(v => v.Name).ToList();
        cloned.Count.ShouldBe(PoolSize);
        await _inventories.DisposeAsync(firstConnection);

        var second = await _inventories.CreateAsync(redis.Server.Endpoint, time, prefix);
        await using var restarted = NewReconciler(options, second, dummy, time);
        for (var pass = 0; pass < 3; pass++)
        {
            await PassAsync(restarted, pool);
            time.Advance(TimeSpan.FromSeconds(30));
        }

        (await Counts(second, PoolA)).ShouldBe(new PoolCounts(0, PoolSize, 0, 0));
        dummy.Vms.Select(v => v.Name).ShouldBe(cloned, ignoreOrder: true, "no extra clone, none destroyed");
        (await second.GetPoolAsync(PoolA, None)).Ready.Select(v => v.Name).ShouldBe(cloned, ignoreOrder: true);
    }

    private static PoolReconciler NewReconciler(VmPoolerOptions options, RedisInventory inventory, DummyProvider provider, TimeProvider time)
        => new(options, inventory, [provider], time, NullLogger<PoolReconciler>.Instance);

    private static async Task PassAsync(PoolReconciler reconciler, PoolOptions pool)
    {
        (await reconciler.ReconcileAsync(pool, None).DefaultTimeout()).ProviderError.ShouldBeNull();
        await reconciler.WhenIdleAsync().DefaultTimeout();
    }
}
