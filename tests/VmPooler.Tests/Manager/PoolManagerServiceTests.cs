using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;
using VmPooler.Core.Metrics;
using VmPooler.Manager;
using VmPooler.Providers.Dummy;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Manager;

/// <summary>
/// The manager service end to end in process: a manual clock that never moves unless a test says so, so every pass seen
/// here was triggered by an event (start, a finished clone, a checkout), not by a timer.
/// </summary>
public sealed class PoolManagerServiceTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly MemoryInventory _inventory;
    private PoolReconciler? _reconciler;
    private PoolManagerService? _service;

    public PoolManagerServiceTests()
    {
        _inventory = new MemoryInventory(_time);
    }

    private static PoolOptions PoolOf(string name, int size) => new() { Name = name, Size = size, Provider = "dummy", Template = name };

    /// <summary>
    /// Starts the service. The manual clock never moves unless a test moves it, so event passes are not spaced by
    /// default here (<paramref name="spacing"/>); <see cref="Checkout_RightAfterAPass_RefillWaitsForTheSpacingThenOnePass"/>
    /// tests the spacing.
    /// </summary>
    private PoolManagerService Start(DummyProviderOptions? dummy = null, params PoolOptions[] pools) => Start(TimeSpan.Zero, dummy, pools);

    private PoolManagerService Start(TimeSpan spacing, DummyProviderOptions? dummy = null, params PoolOptions[] pools)
    {
        var options = new VmPoolerOptions
        {
            Pools = pools,
            Providers = new Dictionary<string, ProviderOptions> { ["dummy"] = new() { Name = "dummy", ProviderClass = "dummy" } },
        };
        var provider = new DummyProvider("dummy", dummy ?? new DummyProviderOptions(), _time, new Random(1));
        _reconciler = new PoolReconciler(options, _inventory, [provider], _time, NullLogger<PoolReconciler>.Instance);
        _service = new PoolManagerService(options, _inventory, _reconciler, _time, NullLogger<PoolManagerService>.Instance) { EventPassSpacing = spacing };
        return _service;
    }

    /// <summary>Starts the service with per-pool leases from <paramref name="leases"/> and full passes due every second.</summary>
    private PoolManagerService StartWithLeases(IPoolLeaseStore leases, ManagerHeartbeat heartbeat, params PoolOptions[] pools)
    {
        var options = new VmPoolerOptions
        {
            Config = new GlobalOptions { CheckLoopDelayMin = TimeSpan.FromSeconds(1), CheckLoopDelayMax = TimeSpan.FromSeconds(1) },
            Pools = pools,
            Providers = new Dictionary<string, ProviderOptions> { ["dummy"] = new() { Name = "dummy", ProviderClass = "dummy" } },
        };
        var provider = new DummyProvider("dummy", new DummyProviderOptions(), _time, new Random(1));
        _reconciler = new PoolReconciler(options, _inventory, [provider], _time, NullLogger<PoolReconciler>.Instance);
        _service = new PoolManagerService(
            options,
            _inventory,
            _reconciler,
            _time,
            NullLogger<PoolManagerService>.Instance,
            heartbeat: heartbeat,
            leases: leases,
            identity: new ManagerIdentity("m1", new Dictionary<string, string>())) { EventPassSpacing = TimeSpan.Zero };
        return _service;
    }

    private async Task<PoolCounts> CountsAsync(string pool) => (await _inventory.GetCountsAsync([pool], CancellationToken.None))[pool];

    private Task WaitForCountsAsync(string pool, Func<PoolCounts, bool> condition, string because)
        => AsyncTestHelpers.WaitUntilAsync(async () => condition(await CountsAsync(pool)), because);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.StopAsync(CancellationToken.None).DefaultTimeout();
            _service.Dispose();
        }

        if (_reconciler is not null)
        {
            await _reconciler.DisposeAsync().AsTask().DefaultTimeout();
        }
    }

    [Fact]
    public async Task StartAsync_SeveralPools_EachFillsToItsSize()
    {
        var service = Start(null, PoolOf("small", 2), PoolOf("large", 5), PoolOf("none", 0));

        await service.StartAsync(CancellationToken.None).DefaultTimeout();

        await WaitForCountsAsync("small", c => c.Ready == 2, "small has 2 ready VMs");
        await WaitForCountsAsync("large", c => c.Ready == 5, "large has 5 ready VMs");
        (await CountsAsync("small")).ShouldBe(new PoolCounts(0, 2, 0, 0));
        (await CountsAsync("large")).ShouldBe(new PoolCounts(0, 5, 0, 0));
        (await CountsAsync("none")).ShouldBe(default);

        // The empty pool gets its passes too (its first may still be running while the others fill by top-ups).
        await AsyncTestHelpers.WaitUntilAsync(() => service.PassAttempts("none") > 0, "the empty pool had a pass");
    }

    [Fact]
    public async Task Checkout_FullPool_RefilledAtOnceWithoutClockAdvance()
    {
        var service = Start(null, PoolOf("pool", 2));
        await service.StartAsync(CancellationToken.None).DefaultTimeout();
        await WaitForCountsAsync("pool", c => c.Ready == 2, "the pool is full");
        var before = _time.GetUtcNow();

        var result = await _inventory.CheckoutAsync([new CheckoutItem("pool", ["pool"])], new CheckoutContext(before), CancellationToken.None);

        result.Succeeded.ShouldBeTrue();
        await WaitForCountsAsync("pool", c => c is { Ready: 2, Running: 1 }, "the checked-out VM is replaced");
        _time.GetUtcNow().ShouldBe(before);
        (await CountsAsync("pool")).ShouldBe(new PoolCounts(0, 2, 1, 0));
    }

    [Fact]
    public async Task Checkout_RightAfterAPass_RefillWaitsForTheSpacingThenOnePass()
    {
        // The spacing itself is tested on the queue (PoolWorkQueueTests); here, that a manager whose event passes are
        // spaced still fills and refills: on the manual clock, every event pass after the first waits for the clock.
        var spacing = TimeSpan.FromMilliseconds(20);
        var service = Start(spacing, null, PoolOf("pool", 2));
        service.EventPassSpacing.ShouldBe(spacing);
        await service.StartAsync(CancellationToken.None).DefaultTimeout();
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                _time.Advance(spacing);
                return (await CountsAsync("pool")).Ready == 2;
            },
            "the pool fills as the clock moves on");

        (await _inventory.CheckoutAsync([new CheckoutItem("pool", ["pool"])], new CheckoutContext(_time.GetUtcNow()), CancellationToken.None)).Succeeded.ShouldBeTrue();
        (await _inventory.CheckoutAsync([new CheckoutItem("pool", ["pool"])], new CheckoutContext(_time.GetUtcNow()), CancellationToken.None)).Succeeded.ShouldBeTrue();

        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                _time.Advance(spacing);
                return (await CountsAsync("pool")) is { Ready: 2, Running: 2 };
            },
            "both checked-out VMs are replaced");
    }

    [Fact]
    public async Task Return_RunningVm_DestroyedAtOnce()
    {
        var service = Start(null, PoolOf("pool", 1));
        await service.StartAsync(CancellationToken.None).DefaultTimeout();
        await WaitForCountsAsync("pool", c => c.Ready == 1, "the pool is full");
        var vm = (await _inventory.CheckoutAsync([new CheckoutItem("pool", ["pool"])], new CheckoutContext(_time.GetUtcNow()), CancellationToken.None))
            .Allocations.Single().Vm;
        await WaitForCountsAsync("pool", c => c.Ready == 1, "the pool is refilled");

        (await _inventory.ReturnAsync(vm, CancellationToken.None)).Status.ShouldBe(ReturnStatus.Returned);

        await AsyncTestHelpers.WaitUntilAsync(async () => (await _inventory.GetVmAsync(vm, CancellationToken.None))?.State is null, "the returned VM is destroyed");
        (await CountsAsync("pool")).ShouldBe(new PoolCounts(0, 1, 0, 0));
    }

    [Fact]
    public async Task StartAsync_ProviderListingFails_RetriedWithGrowingBackoff()
    {
        var service = Start(new DummyProviderOptions { VmsInPoolFailPercent = 100 }, PoolOf("pool", 1));
        await service.StartAsync(CancellationToken.None).DefaultTimeout();
        await AsyncTestHelpers.WaitUntilAsync(() => service.PassAttempts("pool") == 1, "the first pass ran");
        _time.PendingTimers.ShouldBe(1);

        // First retry after min (5 s), the next after 10 s.
        _time.Advance(TimeSpan.FromSeconds(4));
        _time.PendingTimers.ShouldBe(1);
        _time.Advance(TimeSpan.FromSeconds(1));
        await AsyncTestHelpers.WaitUntilAsync(() => service.PassAttempts("pool") == 2, "the first retry ran");
        _time.Advance(TimeSpan.FromSeconds(9));
        _time.PendingTimers.ShouldBe(1);
        service.PassAttempts("pool").ShouldBe(2);
        _time.Advance(TimeSpan.FromSeconds(1));
        await AsyncTestHelpers.WaitUntilAsync(() => service.PassAttempts("pool") == 3, "the second retry ran");
        (await CountsAsync("pool")).ShouldBe(default);
    }

    /// <summary>
    /// A lease renewal that hangs (Redis failing over) until after the lease's time-to-live: passes due meanwhile are
    /// skipped, since the pool is not owned for sure; once the renewal succeeds nothing was gained or lost, and the
    /// pool's periodic passes must go on by themselves (they used to stop for good: a manager that kept its pools
    /// through a failover never refilled them again).
    /// </summary>
    [Fact]
    public async Task LeaseRenewalHungPastItsTimeToLive_ThenSucceeds_PeriodicPassesResume()
    {
        var leases = new GatedLeaseStore(new MemoryPoolLeaseStore(_time));
        var heartbeat = new ManagerHeartbeat();
        using var opened = new Disposer(leases.Open);
        var service = StartWithLeases(leases, heartbeat, PoolOf("pool", 2));
        await service.StartAsync(CancellationToken.None).DefaultTimeout();
        await WaitForCountsAsync("pool", c => c.Ready == 2, "the pool is full");

        // The next renewal round (a third of the 15 s time-to-live from now) hangs in the store.
        leases.Hold();
        _time.Advance(TimeSpan.FromSeconds(5));
        await AsyncTestHelpers.WaitUntilAsync(() => leases.Waiting > 0, "the renewal round waits in the store");

        // Second by second past the time-to-live: each due pass is attempted (skipped once the lease is stale).
        for (var second = 6; second <= 16; second++)
        {
            var attempts = service.PassAttempts("pool");
            _time.Advance(TimeSpan.FromSeconds(1));
            await AsyncTestHelpers.WaitUntilAsync(() => service.PassAttempts("pool") > attempts, $"the pass due at {second} s was attempted");
        }

        var lastPass = heartbeat.LastPass.ShouldNotBeNull();
        (_time.GetUtcNow() - lastPass).ShouldBeGreaterThan(TimeSpan.FromSeconds(1), "no pass ran while the lease was stale");

        // The renewal goes through: the pool is still this manager's, and its passes run again without any event. The
        // held round may have begun before the hold (a round woken by the manager's own registration at the start): it
        // then counts as renewed when it began, already past the time-to-live, and the next round renews for good, so
        // the clock moves on while waiting.
        leases.Open();
        await AsyncTestHelpers.WaitUntilAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return service.OwnedPools.Count == 1;
            },
            "the renewal went through");
        await AsyncTestHelpers.WaitUntilAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return heartbeat.LastPass > lastPass;
            },
            "a full pass ran after the renewal");
    }

    [Fact]
    public async Task StopAsync_Running_StopsCleanlyAndIgnoresLaterEvents()
    {
        var service = Start(null, PoolOf("pool", 2));
        await service.StartAsync(CancellationToken.None).DefaultTimeout();
        await WaitForCountsAsync("pool", c => c.Ready == 2, "the pool is full");

        await service.StopAsync(CancellationToken.None).DefaultTimeout();

        service.ExecuteTask.ShouldNotBeNull().IsCompletedSuccessfully.ShouldBeTrue();
        var passes = service.PassAttempts("pool");
        await _inventory.CheckoutAsync([new CheckoutItem("pool", ["pool"])], new CheckoutContext(_time.GetUtcNow()), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(5));
        service.PassAttempts("pool").ShouldBe(passes);
        (await CountsAsync("pool")).ShouldBe(new PoolCounts(0, 1, 1, 0));
    }

    [Fact]
    public async Task StopAsync_ClonesInFlight_StopsWithoutWaitingForThem()
    {
        var slow = new DummyProviderOptions { CreateVmMinTime = TimeSpan.FromHours(1), CreateVmMaxTime = TimeSpan.FromHours(1) };
        var service = Start(slow, PoolOf("pool", 3));
        await service.StartAsync(CancellationToken.None).DefaultTimeout();
        await AsyncTestHelpers.WaitUntilAsync(() => _reconciler!.ClonesInFlight == 3, "three clones are in flight");

        await service.StopAsync(CancellationToken.None).DefaultTimeout();
        await _reconciler!.DisposeAsync().AsTask().DefaultTimeout();
        _reconciler = null;

        service.ExecuteTask.ShouldNotBeNull().IsCompletedSuccessfully.ShouldBeTrue();
        (await CountsAsync("pool")).Pending.ShouldBe(3);
    }

    /// <summary>Runs an action on dispose (a gate opened whatever the test's outcome, so the service can stop).</summary>
    private sealed class Disposer(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
