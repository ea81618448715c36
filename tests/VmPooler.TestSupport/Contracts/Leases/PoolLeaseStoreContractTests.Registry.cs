using VmPooler.Core.Leases;

namespace VmPooler.Tests.Shared.Leases;

/// <summary>The registry of live managers and the change notifications.</summary>
public abstract partial class PoolLeaseStoreContractTests
{
    [Fact]
    public async Task GetManagersAsync_Registered_ListsThemByIdWithPoolsLabelsAndRenewal()
    {
        var store = await StoreAsync();
        await RegisterAsync(store, "zeta", ["gamma"]);
        Time.Advance(TimeSpan.FromSeconds(2));
        await RegisterAsync(store, "alpha-host:/etc/vmpooler.yaml", ["alpha", "beta"], new(StringComparer.Ordinal) { ["host"] = "hv1", ["rack"] = "r2" });

        var managers = await store.GetManagersAsync(None).DefaultTimeout();

        managers.Select(m => m.Id).ShouldBe(["alpha-host:/etc/vmpooler.yaml", "zeta"]);
        managers[0].Pools.ShouldBe(["alpha", "beta"]);
        managers[0].Labels.ShouldBe(new Dictionary<string, string>(StringComparer.Ordinal) { ["host"] = "hv1", ["rack"] = "r2" }, ignoreOrder: true);
        managers[0].Renewed.ShouldBe(Time.GetUtcNow());
        managers[1].Pools.ShouldBe(["gamma"]);
        managers[1].Labels.ShouldBeEmpty();
        managers[1].Renewed.ShouldBe(Time.GetUtcNow() - TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task RegisterAsync_Renewal_ReplacesPoolsAndRenewalTime()
    {
        var store = await StoreAsync();
        await RegisterAsync(store, "m1", ["alpha"]);
        Time.Advance(TimeSpan.FromSeconds(5));

        await RegisterAsync(store, "m1", ["beta", "gamma"]);

        var manager = (await store.GetManagersAsync(None).DefaultTimeout()).ShouldHaveSingleItem();
        manager.Pools.ShouldBe(["beta", "gamma"]);
        manager.Renewed.ShouldBe(Time.GetUtcNow());
    }

    [Fact]
    public async Task GetManagersAsync_RegistrationNotRenewed_DropsTheManager()
    {
        var store = await StoreAsync();
        await RegisterAsync(store, "gone", ["alpha"]);

        await ExpireAllAsync();
        await RegisterAsync(store, "alive", ["beta"]);

        (await store.GetManagersAsync(None).DefaultTimeout()).Select(m => m.Id).ShouldBe(["alive"]);
    }

    [Fact]
    public async Task UnregisterAsync_LiveManager_GoneAtOnce()
    {
        var store = await StoreAsync();
        await RegisterAsync(store, "m1", ["alpha"]);
        await RegisterAsync(store, "m2", ["beta"]);

        await store.UnregisterAsync("m1", None).DefaultTimeout();

        (await store.GetManagersAsync(None).DefaultTimeout()).Select(m => m.Id).ShouldBe(["m2"]);
    }

    [Fact]
    public async Task GetManagersAsync_FromAnotherProcess_SeesTheSameRegistry()
    {
        var store = await StoreAsync();
        await RegisterAsync(store, "m1", ["alpha"]);

        var other = await ConnectAsync();

        (await other.GetManagersAsync(None).DefaultTimeout()).ShouldHaveSingleItem().Pools.ShouldBe(["alpha"]);
    }

    [Fact]
    public async Task SubscribeChanges_RegistrationsAndReleases_NotifyOnlyWhatOthersMustActOn()
    {
        var store = await StoreAsync();
        var changes = new ChangeCounter();
        using var subscription = (await ConnectAsync()).SubscribeChanges(changes.OnChange);

        await RegisterAsync(store, "m1", ["alpha"]);
        await changes.WaitForAsync(1);

        // A renewal, an acquire and a release of nothing held change nothing the others act on; the release that follows
        // is the next notification (one publisher, one channel: notifications arrive in order).
        await RegisterAsync(store, "m1", ["alpha"]);
        await AcquireAsync(store, "m1", "alpha");
        await ReleaseAsync(store, "m1", "beta");
        await ReleaseAsync(store, "m1", "alpha");
        await changes.WaitForAsync(2);

        await store.UnregisterAsync("m1", None).DefaultTimeout();
        await changes.WaitForAsync(3);
        changes.Count.ShouldBe(3);
    }

    [Fact]
    public async Task SubscribeChanges_Disposed_StopsNotifying()
    {
        var store = await StoreAsync();
        var stopped = new ChangeCounter();
        var listening = new ChangeCounter();
        var subscription = store.SubscribeChanges(stopped.OnChange);
        using var other = store.SubscribeChanges(listening.OnChange);

        subscription.Dispose();
        await RegisterAsync(store, "m1", ["alpha"]);
        await listening.WaitForAsync(1);

        stopped.Count.ShouldBe(0);
    }

    /// <summary>Counts notifications and lets a test await the n-th one (no sleeping).</summary>
    public sealed class ChangeCounter
    {
        private readonly SemaphoreSlim _signal = new(0);
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void OnChange()
        {
            Interlocked.Increment(ref _count);
            _signal.Release();
        }

        public async Task WaitForAsync(int count)
        {
            while (Count < count)
            {
                await _signal.WaitAsync().DefaultTimeout();
            }
        }
    }
}
