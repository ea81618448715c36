using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Diagnostics;
using VmPooler.Core.Inventory;
using VmPooler.Providers.Dummy;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Manager;

/// <summary>
/// Every transition of spec §4.2–4.6, one reconciler pass at a time, on a manual clock. Background clones and destroys
/// finish on their own when the dummy has no delays; with delays the test advances the clock.
/// </summary>
public class PoolReconcilerTests
{
    private const string Pool = ReconcilerHarness.PoolName;

    private static DummyProviderOptions Delays(
        TimeSpan? create = null,
        TimeSpan? boot = null,
        TimeSpan? destroy = null) => new()
        {
            CreateVmMinTime = create ?? TimeSpan.Zero,
            CreateVmMaxTime = create ?? TimeSpan.Zero,
            BootMinTime = boot ?? TimeSpan.Zero,
            BootMaxTime = boot ?? TimeSpan.Zero,
            DestroyVmMaxTime = destroy ?? TimeSpan.Zero,
        };

    // ---- Refill ----

    [Fact]
    public async Task ReconcileAsync_EmptyPool_ClonesExactlySizeReadyInOnePass()
    {
        await using var h = new ReconcilerHarness(size: 3);

        var result = await h.PassAsync();

        result.DidWork.ShouldBeTrue();
        result.HasPending.ShouldBeTrue();
        result.ProviderError.ShouldBeNull();
        // The clones ran their first ready check themselves: with no boot time they are ready without another pass.
        (await h.CountsAsync()).ShouldBe(new PoolCounts(Pending: 0, Ready: 3, Running: 0, Completed: 0, Cloning: 0));
        h.Dummy.Vms.Count.ShouldBe(3);
        h.Dummy.Vms.ShouldAllBe(v => v.Pool == Pool);
        var snapshot = await h.SnapshotAsync();
        snapshot.Ready.Select(v => v.Name).Order().ShouldBe(h.Dummy.Vms.Select(v => v.Name).Order());
        foreach (var vm in snapshot.Ready)
        {
            vm.View.Cloned.ShouldBe(h.Time.GetUtcNow());
            vm.Get(VmFields.CloneTime).ShouldNotBeNull();
            vm.Get(VmFields.Ip).ShouldBe("127.0.0.1");
            vm.Get(VmFields.Pool).ShouldBe(Pool);
        }

        var clones = await h.Memory.GetDurationsAsync(DurationKind.Clone, DateOnly.FromDateTime(h.Time.GetUtcNow().UtcDateTime), CancellationToken.None);
        clones.Keys.Order().ShouldBe(snapshot.Ready.Select(v => $"{Pool}:{v.Name}").Order());
        h.Log.Count(EventIds.VmReady).ShouldBe(3);
    }

    [Fact]
    public async Task ReconcileAsync_EmptyPoolSlowBoot_ClonesStayPendingUntilBooted()
    {
        await using var h = new ReconcilerHarness(size: 3, Delays(boot: TimeSpan.FromSeconds(20)));

        await h.PassAsync();

        (await h.CountsAsync()).ShouldBe(new PoolCounts(Pending: 3, Ready: 0, Running: 0, Completed: 0, Cloning: 0));
        // The first ready check failed, so the clone's own fields were written while it stays pending.
        (await h.SnapshotAsync()).Pending.ShouldAllBe(v => v.View.Ip == "127.0.0.1" && v.View.CloneSeconds != null && v.View.Ready == null);
    }

    [Fact]
    public async Task ReconcileAsync_PendingWithoutAddress_AddressReadWhenItBecomesReady()
    {
        // A manager that died between the clone and its first ready check left the VM pending without its address.
        await using var h = new ReconcilerHarness(size: 1);
        await h.CreateInProviderAsync("orphan");
        await h.Memory.AddPendingAsync(Pool, "orphan", new Dictionary<string, string> { [VmFields.Clone] = VmTime.Format(h.Time.GetUtcNow()) }, CancellationToken.None);

        await h.PassAsync();

        var vm = (await h.VmAsync("orphan"))!;
        vm.State.ShouldBe(VmState.Ready);
        vm.View.Ip.ShouldBe("127.0.0.1");
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(0);
    }

    [Fact]
    public async Task ReconcileAsync_PredictableNames_UsedInOrder()
    {
        await using var h = new ReconcilerHarness(size: 2);
        var expected = new[] { h.PredictName(), h.PredictName() };

        await h.PassAsync();

        (await h.SnapshotAsync()).Ready.Select(v => v.Name).Order().ShouldBe(expected.Order());
        expected.ShouldAllBe(name => System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z]+-[a-z]+$"));
    }

    [Fact]
    public async Task ReconcileAsync_SizeZero_NeverClones()
    {
        await using var h = new ReconcilerHarness(size: 0);

        var result = await h.PassAsync();

        result.DidWork.ShouldBeFalse();
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(0);
        (await h.CountsAsync()).ShouldBe(default);
    }

    [Fact]
    public async Task ReconcileAsync_TaskLimit_BoundsClonesInFlight()
    {
        await using var h = new ReconcilerHarness(size: 5, Delays(create: TimeSpan.FromSeconds(10)), new GlobalOptions { TaskLimit = 2 });

        await h.StartPassAsync();

        h.Reconciler.ClonesInFlight.ShouldBe(2);
        (await h.CountsAsync()).ShouldBe(new PoolCounts(Pending: 2, Ready: 0, Running: 0, Completed: 0, Cloning: 2));
        h.Dummy.Vms.Count.ShouldBe(2);

        // A freed slot goes straight to the clones the pool still lacks: no pass is needed in between.
        h.Time.Advance(TimeSpan.FromSeconds(10));
        await AsyncTestHelpers.WaitUntilAsync(async () => (await h.CountsAsync()) == new PoolCounts(2, 2, 0, 0, 2), "two ready, the next two cloning");
        h.Reconciler.ClonesInFlight.ShouldBe(2);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        await AsyncTestHelpers.WaitUntilAsync(async () => (await h.CountsAsync()) == new PoolCounts(1, 4, 0, 0, 1), "four ready, the last cloning");
        h.Reconciler.ClonesInFlight.ShouldBe(1);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        await AsyncTestHelpers.WaitUntilAsync(async () => (await h.CountsAsync()) == new PoolCounts(0, 5, 0, 0), "the pool is full");
        h.Reconciler.ClonesInFlight.ShouldBe(0);
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(5);
    }

    [Fact]
    public async Task ReconcileAsync_ClonesInFlight_NotClonedAgainNorDiscovered()
    {
        await using var h = new ReconcilerHarness(size: 3, Delays(create: TimeSpan.FromSeconds(10)));
        await h.StartPassAsync();

        var second = await h.StartPassAsync();

        second.HasPending.ShouldBeTrue();
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(3);
        (await h.CountsAsync()).ShouldBe(new PoolCounts(Pending: 3, Ready: 0, Running: 0, Completed: 0, Cloning: 3));
        h.Log.Count(EventIds.VmDiscovered).ShouldBe(0);

        h.Time.Advance(TimeSpan.FromSeconds(10));
        await h.IdleAsync();
        (await h.CountsAsync()).ShouldBe(new PoolCounts(Pending: 0, Ready: 3, Running: 0, Completed: 0, Cloning: 0));
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(3);
    }

    [Fact]
    public async Task ReconcileAsync_SecondManagerWhileClonesInFlight_DoesNotClone()
    {
        await using var h = new ReconcilerHarness(size: 3, Delays(create: TimeSpan.FromSeconds(10)));
        await h.StartPassAsync();
        var second = h.CreateReconciler(h.Options);

        await second.ReconcileAsync(h.Pool, CancellationToken.None).DefaultTimeout();

        second.ClonesInFlight.ShouldBe(0);
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(3);
        (await h.CountsAsync()).Pending.ShouldBe(3);
        h.Log.Count(EventIds.VmDiscovered).ShouldBe(0);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        await h.IdleAsync();
    }

    [Fact]
    public async Task ReconcileAsync_RestartedManagerWithPendingVms_FinishesThemWithoutCloning()
    {
        await using var h = new ReconcilerHarness(size: 2);
        await h.PassAsync();
        var restarted = h.CreateReconciler(h.Options);

        await h.PassAsync(restarted);

        (await h.CountsAsync()).ShouldBe(new PoolCounts(Pending: 0, Ready: 2, Running: 0, Completed: 0));
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(2);
        h.Dummy.Vms.Count.ShouldBe(2);
    }

    [Fact]
    public async Task ReconcileAsync_FullPool_NothingToDo()
    {
        await using var h = new ReconcilerHarness(size: 2);
        await h.PassAsync();
        await h.PassAsync();

        var result = await h.PassAsync();

        result.DidWork.ShouldBeFalse();
        result.HasPending.ShouldBeFalse();
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(2);
        (await h.CountsAsync()).ShouldBe(new PoolCounts(0, 2, 0, 0));
    }

    [Fact]
    public async Task ReconcileAsync_CheckedOutVm_Replaced()
    {
        await using var h = new ReconcilerHarness(size: 2);
        await h.PassAsync();
        await h.PassAsync();
        (await h.Memory.CheckoutAsync([new CheckoutItem(Pool, [Pool])], new CheckoutContext(h.Time.GetUtcNow()), CancellationToken.None)).Succeeded.ShouldBeTrue();

        await h.PassAsync();
        await h.PassAsync();

        (await h.CountsAsync()).ShouldBe(new PoolCounts(0, 2, 1, 0));
    }

    [Fact]
    public async Task ReconcileAsync_CloneFinishedNotYetBooted_SignalsFullPass()
    {
        await using var h = new ReconcilerHarness(size: 1, Delays(boot: TimeSpan.FromSeconds(20)));

        await h.PassAsync();

        h.Reconciler.Signals.TryRead(out var signal).ShouldBeTrue();
        signal.ShouldBe(new VmPooler.Manager.Execution.PoolSignal(Pool, FullPass: true));
    }

    // ---- Pending ----

    [Fact]
    public async Task ReconcileAsync_CloneDone_NextPassMovesPendingToReady()
    {
        await using var h = new ReconcilerHarness(size: 1, Delays(boot: TimeSpan.FromSeconds(20)));
        var cloneTime = h.Time.GetUtcNow();
        await h.PassAsync();
        var name = (await h.SnapshotAsync()).Pending.Single().Name;
        h.Time.Advance(TimeSpan.FromSeconds(30));
        var now = h.Time.GetUtcNow();

        var result = await h.PassAsync();

        result.DidWork.ShouldBeTrue();
        result.HasPending.ShouldBeFalse();
        (await h.CountsAsync()).ShouldBe(new PoolCounts(0, 1, 0, 0));
        var vm = (await h.VmAsync(name))!;
        vm.State.ShouldBe(VmState.Ready);
        vm.View.Ready.ShouldBe(now);
        vm.View.Checked.ShouldBe(now);
        vm.View.Cloned.ShouldBe(cloneTime);
        var boots = await h.Memory.GetDurationsAsync(DurationKind.Boot, DateOnly.FromDateTime(now.UtcDateTime), CancellationToken.None);
        boots[$"{Pool}:{name}"].ShouldBe(30);
        (await h.Memory.GetLastBootAsync(CancellationToken.None))[Pool].ShouldBe(now);
        h.Log.Count(EventIds.VmReady).ShouldBe(1);
    }

    [Fact]
    public async Task ReconcileAsync_BootNotFinished_StaysPendingUntilBooted()
    {
        await using var h = new ReconcilerHarness(size: 1, Delays(boot: TimeSpan.FromSeconds(60)));
        await h.PassAsync();
        h.Time.Advance(TimeSpan.FromSeconds(30));

        var result = await h.PassAsync();

        result.HasPending.ShouldBeTrue();
        (await h.CountsAsync()).ShouldBe(new PoolCounts(1, 0, 0, 0));
        (await h.SnapshotAsync()).Pending.Single().Get(VmFields.TimeoutNotification).ShouldBeNull();

        h.Time.Advance(TimeSpan.FromSeconds(31));
        await h.PassAsync();
        (await h.CountsAsync()).ShouldBe(new PoolCounts(0, 1, 0, 0));
    }

    [Fact]
    public async Task ReconcileAsync_PendingPastNotification_NotifiedOnce()
    {
        await using var h = new ReconcilerHarness(size: 1, Delays(boot: TimeSpan.FromHours(1)));
        await h.PassAsync();
        var name = (await h.SnapshotAsync()).Pending.Single().Name;
        h.Time.Advance(TimeSpan.FromMinutes(6));

        await h.PassAsync();

        var vm = (await h.VmAsync(name))!;
        vm.State.ShouldBe(VmState.Pending);
        vm.Get(VmFields.TimeoutNotification).ShouldBe("1");
        vm.Get(VmFields.OpenSocketError).ShouldBe("still booting");
        h.Log.Count(EventIds.PendingSlow).ShouldBe(1);

        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.PassAsync();
        h.Log.Count(EventIds.PendingSlow).ShouldBe(1);
        (await h.VmAsync(name))!.State.ShouldBe(VmState.Pending);
    }

    [Fact]
    public async Task ReconcileAsync_PendingPastTimeout_CompletedThenDestroyedAndReplaced()
    {
        await using var h = new ReconcilerHarness(
            size: 1,
            Delays(boot: TimeSpan.FromHours(1), destroy: TimeSpan.FromSeconds(10)),
            configurePool: p => p with { Timeout = TimeSpan.FromMinutes(15) });
        await h.PassAsync();
        var name = (await h.SnapshotAsync()).Pending.Single().Name;
        h.Time.Advance(TimeSpan.FromMinutes(16));

        await h.StartPassAsync();

        var vm = (await h.VmAsync(name))!;
        vm.State.ShouldBe(VmState.Completed);
        vm.Get(VmFields.OpenSocketError).ShouldBe("still booting");
        h.Log.Count(EventIds.PendingTimedOut).ShouldBe(1);
        (await h.SnapshotAsync()).Pending.Single().Name.ShouldNotBe(name);

        h.Time.Advance(TimeSpan.FromSeconds(10));
        await h.IdleAsync();
        vm = (await h.VmAsync(name))!;
        vm.State.ShouldBeNull();
        vm.View.Destroyed.ShouldNotBeNull();
        h.ProviderHas(name).ShouldBeFalse();
        h.Dummy.Vms.Count.ShouldBe(1);
    }

    [Fact]
    public async Task ReconcileAsync_PendingWithoutCloneHereGoneFromProvider_ForgottenAtOnce()
    {
        await using var h = new ReconcilerHarness(size: 0);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        var clone = VmTime.Format(h.Time.GetUtcNow());
        await h.Memory.AddPendingAsync(Pool, "ghost", new Dictionary<string, string> { [VmFields.Clone] = clone }, CancellationToken.None);

        await h.PassAsync();

        (await h.VmAsync("ghost"))!.State.ShouldBeNull();
        h.Log.Count(EventIds.PendingVanished).ShouldBe(1);
        h.Provider.Calls(nameof(h.Provider.DestroyVmAsync)).ShouldBe(0);
    }

    [Fact]
    public async Task ReconcileAsync_PendingWithFinishedCloneGoneFromProvider_ForgottenAtOnce()
    {
        await using var h = new ReconcilerHarness(size: 0);
        var clone = VmTime.Format(h.Time.GetUtcNow());
        await h.Memory.AddPendingAsync(Pool, "ghost", new Dictionary<string, string> { [VmFields.Clone] = clone, [VmFields.CloneTime] = "1" }, CancellationToken.None);

        await h.PassAsync();

        (await h.VmAsync("ghost"))!.State.ShouldBeNull();
        h.Log.Count(EventIds.PendingVanished).ShouldBe(1);
    }

    [Fact]
    public async Task ReconcileAsync_PendingOfAnEarlierManagerGoneFromProvider_ForgottenAtOnce()
    {
        var earlier = VmTime.Format(new FakeTimeProvider().GetUtcNow() - TimeSpan.FromMinutes(1));
        await using var h = new ReconcilerHarness(size: 0);
        await h.Memory.AddPendingAsync(Pool, "orphan", new Dictionary<string, string> { [VmFields.Clone] = earlier }, CancellationToken.None);

        await h.PassAsync();

        (await h.VmAsync("orphan"))!.State.ShouldBeNull();
        h.Log.Count(EventIds.PendingVanished).ShouldBe(1);
    }

    // ---- Clone failures ----

    [Fact]
    public async Task ReconcileAsync_CloneFails_ForgottenWithCloneErrorAndNothingLeaked()
    {
        await using var h = new ReconcilerHarness(size: 1, new DummyProviderOptions { CreateVmFailPercent = 100 });
        var name = h.PredictName();

        var result = await h.PassAsync();

        result.ProviderError.ShouldBeNull();
        var vm = (await h.VmAsync(name)).ShouldNotBeNull();
        vm.State.ShouldBeNull();
        vm.Get(VmFields.CloneError)!.ShouldContain("injected create_vm failure");
        vm.Get(VmFields.CloneErrorClass).ShouldBe(nameof(DummyProviderException));
        h.Dummy.Vms.ShouldBeEmpty();
        (await h.CountsAsync()).ShouldBe(default);
        h.Reconciler.ClonesInFlight.ShouldBe(0);
        h.Reconciler.CloneBackoffUntil(Pool).ShouldBeNull();
        h.Log.Count(EventIds.CloneFailed).ShouldBe(1);
    }

    [Fact]
    public async Task ReconcileAsync_RepeatedCloneFailures_BackOff()
    {
        await using var h = new ReconcilerHarness(size: 2, new DummyProviderOptions { CreateVmFailPercent = 100 });

        await h.PassAsync();

        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(2);
        h.Reconciler.CloneBackoffUntil(Pool).ShouldBe(h.Time.GetUtcNow() + TimeSpan.FromSeconds(5));

        // While backing off: no clone at all.
        h.Time.Advance(TimeSpan.FromSeconds(4));
        var during = await h.PassAsync();
        during.DidWork.ShouldBeFalse();
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(2);

        // After it: clones again, and the back-off grows (failures 3 and 4: 10 s, then 20 s).
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.PassAsync();
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(4);
        h.Reconciler.CloneBackoffUntil(Pool).ShouldBe(h.Time.GetUtcNow() + TimeSpan.FromSeconds(20));
        h.Dummy.Vms.ShouldBeEmpty();
        h.Log.Count(EventIds.ProviderBackoff).ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task ReconcileAsync_NoIpAddress_CloneFailsAndLeftoverDestroyedNextPass()
    {
        await using var h = new ReconcilerHarness(size: 1);
        h.Provider.IpOverride = _ => null;
        var name = h.PredictName();

        await h.PassAsync();

        var vm = (await h.VmAsync(name))!;
        vm.State.ShouldBeNull();
        vm.Get(VmFields.CloneError)!.ShouldContain("IP address");
        h.ProviderHas(name).ShouldBeTrue();

        await h.PassAsync();

        h.ProviderHas(name).ShouldBeFalse();
        vm = (await h.VmAsync(name))!;
        vm.State.ShouldBeNull();
        vm.Get(VmFields.Discovered).ShouldNotBeNull();
        vm.Get(VmFields.Destroy).ShouldNotBeNull();
    }

    [Fact]
    public async Task ReconcileAsync_CloneSucceedsAfterFailures_BackoffCleared()
    {
        await using var h = new ReconcilerHarness(size: 2);
        h.Provider.IpOverride = _ => null;
        await h.PassAsync();
        h.Reconciler.CloneBackoffUntil(Pool).ShouldNotBeNull();

        h.Provider.IpOverride = null;
        h.Time.Advance(TimeSpan.FromSeconds(5));
        await h.PassAsync();

        h.Reconciler.CloneBackoffUntil(Pool).ShouldBeNull();
        (await h.CountsAsync()).ShouldBe(new PoolCounts(0, 2, 0, 0));
        h.Dummy.Vms.Count.ShouldBe(2);
    }

    [Fact]
    public async Task ReconcileAsync_CloneSlowerThanTimeout_FailsAndProviderCleanedUp()
    {
        await using var h = new ReconcilerHarness(size: 1, Delays(create: TimeSpan.FromMinutes(20)));
        var name = h.PredictName();
        await h.StartPassAsync();
        h.Reconciler.ClonesInFlight.ShouldBe(1);

        h.Time.Advance(TimeSpan.FromMinutes(15));
        await h.IdleAsync();

        h.Reconciler.ClonesInFlight.ShouldBe(0);
        var vm = (await h.VmAsync(name))!;
        vm.State.ShouldBeNull();
        vm.Get(VmFields.CloneError).ShouldNotBeNull().ShouldContain("did not answer within 900 seconds");

        // The call's cancellation and its wait are two timers due at the same instant; the fake clock fires such
        // timers in no fixed order (as the real one does), so the cancelled clone may remove its VM just after the
        // reconciler has given up on it. The clock does not move again, so only that cancellation can remove it.
        await AsyncTestHelpers.WaitUntilAsync(() => !h.ProviderHas(name), "the cancelled clone removed its VM from the provider");
    }

    // ---- Ready ----

    [Fact]
    public async Task ReconcileAsync_ReadyPastTtl_RecycledAndReplaced()
    {
        await using var h = new ReconcilerHarness(size: 1, Delays(boot: TimeSpan.FromSeconds(20)), configurePool: p => p with { ReadyTtl = TimeSpan.FromMinutes(30) });
        await h.PassAsync();
        h.Time.Advance(TimeSpan.FromSeconds(20));
        await h.PassAsync();
        var name = (await h.SnapshotAsync()).Ready.Single().Name;
        h.Time.Advance(TimeSpan.FromMinutes(31));

        var result = await h.PassAsync();

        result.DidWork.ShouldBeTrue();
        var vm = (await h.VmAsync(name))!;
        vm.State.ShouldBeNull();
        vm.View.Destroyed.ShouldBe(h.Time.GetUtcNow());
        h.ProviderHas(name).ShouldBeFalse();
        h.Log.Count(EventIds.ReadyExpired).ShouldBe(1);
        var snapshot = await h.SnapshotAsync();
        snapshot.Pending.Single().Name.ShouldNotBe(name);
        snapshot.Ready.ShouldBeEmpty();
    }

    [Fact]
    public async Task ReconcileAsync_ReadyWithinTtl_Kept()
    {
        await using var h = new ReconcilerHarness(size: 1, configurePool: p => p with { ReadyTtl = TimeSpan.FromMinutes(30) });
        await h.SeedReadyAsync("vm-r");
        h.Time.Advance(TimeSpan.FromMinutes(29));

        await h.PassAsync();

        (await h.VmAsync("vm-r"))!.State.ShouldBe(VmState.Ready);
    }

    [Fact]
    public async Task ReconcileAsync_ReadyDueForCheckAndHealthy_StaysReadyAndCheckUpdated()
    {
        await using var h = new ReconcilerHarness(size: 1);
        await h.SeedReadyAsync("vm-r");
        h.Time.Advance(TimeSpan.FromMinutes(2));

        await h.PassAsync();

        var vm = (await h.VmAsync("vm-r"))!;
        vm.State.ShouldBe(VmState.Ready);
        vm.View.Checked.ShouldBe(h.Time.GetUtcNow());
        h.Provider.Calls(nameof(h.Provider.CheckVmReadyAsync)).ShouldBe(1);
    }

    [Fact]
    public async Task ReconcileAsync_ReadyCheckFails_CompletedAndDestroyed()
    {
        await using var h = new ReconcilerHarness(size: 1, new DummyProviderOptions { VmReadyFailPercent = 100 });
        await h.SeedReadyAsync("vm-r");
        h.Time.Advance(TimeSpan.FromMinutes(2));

        await h.PassAsync();

        var vm = (await h.VmAsync("vm-r"))!;
        vm.State.ShouldBeNull();
        vm.Get(VmFields.OpenSocketError)!.ShouldContain("vm_ready?");
        vm.Get(VmFields.Destroy).ShouldNotBeNull();
        h.ProviderHas("vm-r").ShouldBeFalse();
        h.Log.Count(EventIds.ReadyCheckFailed).ShouldBe(1);
        (await h.CountsAsync()).Pending.ShouldBe(1);
    }

    [Fact]
    public async Task ReconcileAsync_ReadyCheckedRecently_NotCheckedAgain()
    {
        await using var h = new ReconcilerHarness(size: 1, new DummyProviderOptions { VmReadyFailPercent = 100 });
        await h.SeedReadyAsync("vm-r");
        h.Time.Advance(TimeSpan.FromSeconds(30));

        var result = await h.PassAsync();

        result.DidWork.ShouldBeFalse();
        (await h.VmAsync("vm-r"))!.State.ShouldBe(VmState.Ready);
        h.Provider.Calls(nameof(h.Provider.CheckVmReadyAsync)).ShouldBe(0);
    }

    [Fact]
    public async Task ReconcileAsync_ReadyVmCheckedOutDuringFailingCheck_StaysWithClient()
    {
        await using var h = new ReconcilerHarness(size: 1, new DummyProviderOptions { VmReadyFailPercent = 100 });
        await h.SeedReadyAsync("vm-r");
        h.Time.Advance(TimeSpan.FromMinutes(2));
        h.Inventory.AfterNextSnapshot = async () =>
            (await h.Memory.CheckoutAsync([new CheckoutItem(Pool, [Pool])], new CheckoutContext(h.Time.GetUtcNow()), CancellationToken.None))
                .Succeeded.ShouldBeTrue();

        await h.PassAsync();

        (await h.VmAsync("vm-r"))!.State.ShouldBe(VmState.Running);
        h.ProviderHas("vm-r").ShouldBeTrue();
    }

    [Fact]
    public async Task ReconcileAsync_ReadyVmCheckedOutAfterTtlSnapshot_StaysWithClient()
    {
        await using var h = new ReconcilerHarness(size: 1, configurePool: p => p with { ReadyTtl = TimeSpan.FromMinutes(30) });
        await h.SeedReadyAsync("vm-r");
        h.Time.Advance(TimeSpan.FromMinutes(31));
        h.Inventory.AfterNextSnapshot = async () =>
            (await h.Memory.CheckoutAsync([new CheckoutItem(Pool, [Pool])], new CheckoutContext(h.Time.GetUtcNow()), CancellationToken.None))
                .Succeeded.ShouldBeTrue();

        await h.PassAsync();

        (await h.VmAsync("vm-r"))!.State.ShouldBe(VmState.Running);
        h.ProviderHas("vm-r").ShouldBeTrue();
    }

    [Fact]
    public async Task ReconcileAsync_ReadyVmGoneFromProvider_CompletedThenForgotten()
    {
        await using var h = new ReconcilerHarness(size: 1);
        await h.SeedReadyAsync("vm-r", inProvider: false);

        await h.PassAsync();

        (await h.VmAsync("vm-r"))!.State.ShouldBe(VmState.Completed);
        h.Log.Count(EventIds.VmMissing).ShouldBe(1);

        await h.PassAsync();

        var vm = (await h.VmAsync("vm-r"))!;
        vm.State.ShouldBeNull();
        vm.View.Destroyed.ShouldBe(h.Time.GetUtcNow());
        h.Provider.Calls(nameof(h.Provider.DestroyVmAsync)).ShouldBe(0);
    }

    [Fact]
    public async Task ReconcileAsync_PoolShrunk_ExcessReadyRecycledNewestFirst()
    {
        await using var h = new ReconcilerHarness(size: 3);
        await h.PassAsync();
        await h.PassAsync();
        var ready = (await h.SnapshotAsync()).Ready.Select(v => v.Name).ToList();
        ready.Count.ShouldBe(3);
        var smaller = h.Pool with { Size = 1 };
        var shrunk = h.CreateReconciler(h.Options with { Pools = [smaller] });

        var result = await h.PassAsync(shrunk, smaller);

        result.DidWork.ShouldBeTrue();
        (await h.CountsAsync()).ShouldBe(new PoolCounts(0, 1, 0, 0));
        (await h.SnapshotAsync()).Ready.Single().Name.ShouldBe(ready[0]);
        h.ProviderHas(ready[1]).ShouldBeFalse();
        h.ProviderHas(ready[2]).ShouldBeFalse();
        h.Dummy.Vms.Count.ShouldBe(1);
        h.Log.Count(EventIds.ExcessReady).ShouldBe(2);
    }

    // ---- Running ----

    [Fact]
    public async Task ReconcileAsync_RunningPastLifetime_CompletedAndDestroyed()
    {
        await using var h = new ReconcilerHarness(size: 0);
        await h.SeedRunningAsync("vm-u");
        h.Time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromMinutes(1));

        await h.PassAsync();
        (await h.VmAsync("vm-u"))!.State.ShouldBe(VmState.Running);

        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.PassAsync();

        var vm = (await h.VmAsync("vm-u"))!;
        vm.State.ShouldBeNull();
        vm.Get(VmFields.Destroy).ShouldNotBeNull();
        h.ProviderHas("vm-u").ShouldBeFalse();
        h.Log.Count(EventIds.RunningExpired).ShouldBe(1);
    }

    [Fact]
    public async Task ReconcileAsync_RunningWithLongerLifetime_StaysRunningUntilIt()
    {
        await using var h = new ReconcilerHarness(size: 0);
        await h.SeedRunningAsync("vm-u");
        await h.Memory.UpdateFieldsAsync("vm-u", new Dictionary<string, string> { [VmFields.Lifetime] = "48" });
        h.Time.Advance(TimeSpan.FromHours(25));

        await h.PassAsync();
        (await h.VmAsync("vm-u"))!.State.ShouldBe(VmState.Running);

        h.Time.Advance(TimeSpan.FromHours(23));
        await h.PassAsync();
        (await h.VmAsync("vm-u"))!.State.ShouldBeNull();
    }

    [Fact]
    public async Task ReconcileAsync_LifetimeExtendedAfterSnapshot_StaysRunning()
    {
        await using var h = new ReconcilerHarness(size: 0);
        await h.SeedRunningAsync("vm-u");
        h.Time.Advance(TimeSpan.FromHours(25));
        h.Inventory.AfterNextSnapshot = () => h.Memory.UpdateFieldsAsync("vm-u", new Dictionary<string, string> { [VmFields.Lifetime] = "48" });

        await h.PassAsync();

        (await h.VmAsync("vm-u"))!.State.ShouldBe(VmState.Running);
        h.ProviderHas("vm-u").ShouldBeTrue();
        h.Log.Count(EventIds.RunningExpired).ShouldBe(0);

        await h.PassAsync();
        (await h.VmAsync("vm-u"))!.State.ShouldBe(VmState.Running);
    }

    [Fact]
    public async Task ReconcileAsync_RunningWithoutCheckoutTime_CompletedAndDestroyed()
    {
        await using var h = new ReconcilerHarness(size: 0);
        await h.SeedRunningAsync("vm-u");
        await h.Memory.UpdateFieldsAsync("vm-u", new Dictionary<string, string>(), [VmFields.Checkout]);

        await h.PassAsync();

        (await h.VmAsync("vm-u"))!.State.ShouldBeNull();
        h.ProviderHas("vm-u").ShouldBeFalse();
    }

    [Fact]
    public async Task ReconcileAsync_ReturnedAndCheckedOutAgainDuringPass_StaysRunning()
    {
        // Judged expired on its old checkout; by the time of the move it is a new checkout, which must win.
        await using var h = new ReconcilerHarness(size: 0);
        await h.SeedRunningAsync("vm-u");
        h.Time.Advance(TimeSpan.FromHours(25));
        h.Inventory.AfterNextSnapshot = async () =>
        {
            await h.Memory.MoveAsync(Pool, "vm-u", VmState.Running, VmState.Ready);
            (await h.Memory.CheckoutAsync([new CheckoutItem(Pool, [Pool])], new CheckoutContext(h.Time.GetUtcNow()), CancellationToken.None))
                .Succeeded.ShouldBeTrue();
        };

        await h.PassAsync();

        (await h.VmAsync("vm-u"))!.State.ShouldBe(VmState.Running);
        h.ProviderHas("vm-u").ShouldBeTrue();
    }

    [Fact]
    public async Task ReconcileAsync_RunningVmGoneFromProvider_CompletedThenForgotten()
    {
        await using var h = new ReconcilerHarness(size: 0);
        await h.SeedRunningAsync("vm-u", inProvider: false);

        await h.PassAsync();

        (await h.VmAsync("vm-u"))!.State.ShouldBe(VmState.Completed);
        h.Log.Count(EventIds.VmMissing).ShouldBe(1);

        await h.PassAsync();

        (await h.VmAsync("vm-u"))!.State.ShouldBeNull();
        h.Provider.Calls(nameof(h.Provider.DestroyVmAsync)).ShouldBe(0);
    }

    // ---- Completed and destroy ----

    [Fact]
    public async Task ReconcileAsync_CompletedVm_DestroyedAndMetadataKeptForDataTtl()
    {
        await using var h = new ReconcilerHarness(size: 0);
        await h.SeedCompletedAsync("vm-c");

        await h.PassAsync();

        var vm = (await h.VmAsync("vm-c")).ShouldNotBeNull();
        vm.State.ShouldBeNull();
        vm.View.Destroyed.ShouldBe(h.Time.GetUtcNow());
        h.ProviderHas("vm-c").ShouldBeFalse();
        h.Log.Count(EventIds.VmDestroyed).ShouldBe(1);
        (await h.CountsAsync()).ShouldBe(default);

        h.Time.Advance(GlobalOptions.DefaultDataTtl - TimeSpan.FromMinutes(1));
        (await h.VmAsync("vm-c")).ShouldNotBeNull();
        h.Time.Advance(TimeSpan.FromMinutes(2));
        (await h.VmAsync("vm-c")).ShouldBeNull();
    }

    [Fact]
    public async Task ReconcileAsync_DestroyFails_StaysCompletedAndRetriedNextPass()
    {
        await using var h = new ReconcilerHarness(size: 0, new DummyProviderOptions { DestroyVmFailPercent = 100 });
        await h.SeedCompletedAsync("vm-c");

        await h.PassAsync();

        (await h.VmAsync("vm-c"))!.State.ShouldBe(VmState.Completed);
        h.ProviderHas("vm-c").ShouldBeTrue();
        h.Provider.Calls(nameof(h.Provider.DestroyVmAsync)).ShouldBe(1);
        h.Log.Count(EventIds.DestroyFailed).ShouldBe(1);

        await h.PassAsync();

        (await h.VmAsync("vm-c"))!.State.ShouldBe(VmState.Completed);
        h.Provider.Calls(nameof(h.Provider.DestroyVmAsync)).ShouldBe(2);
    }

    [Fact]
    public async Task ReconcileAsync_DestroyInFlight_NotStartedTwice()
    {
        await using var h = new ReconcilerHarness(size: 0, Delays(destroy: TimeSpan.FromSeconds(10)));
        await h.SeedCompletedAsync("vm-c");

        await h.StartPassAsync();
        await h.StartPassAsync();

        h.Provider.Calls(nameof(h.Provider.DestroyVmAsync)).ShouldBe(1);
        (await h.VmAsync("vm-c"))!.State.ShouldBe(VmState.Completed);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        await h.IdleAsync();
        (await h.VmAsync("vm-c"))!.State.ShouldBeNull();
        h.ProviderHas("vm-c").ShouldBeFalse();
    }

    // ---- Discovery ----

    [Fact]
    public async Task ReconcileAsync_UnknownVmInProvider_AdoptedAndDestroyed()
    {
        await using var h = new ReconcilerHarness(size: 0);
        await h.CreateInProviderAsync("stray");

        var result = await h.PassAsync();

        result.DidWork.ShouldBeTrue();
        var vm = (await h.VmAsync("stray")).ShouldNotBeNull();
        vm.State.ShouldBeNull();
        vm.Get(VmFields.Discovered).ShouldNotBeNull();
        vm.Get(VmFields.Destroy).ShouldNotBeNull();
        h.ProviderHas("stray").ShouldBeFalse();
        h.Log.Count(EventIds.VmDiscovered).ShouldBe(1);
    }

    [Fact]
    public async Task ReconcileAsync_DestroyFinishesBetweenListingAndSnapshot_NotRediscovered()
    {
        // A background destroy that completes while a pass runs (after the provider listing, before the inventory
        // snapshot) must not make the pass treat the just-destroyed VM as an unknown one.
        await using var h = new ReconcilerHarness(size: 0, Delays(destroy: TimeSpan.FromSeconds(10)));
        await h.SeedCompletedAsync("vm-c");
        await h.StartPassAsync();
        h.Inventory.BeforeNextSnapshot = async () =>
        {
            h.Time.Advance(TimeSpan.FromSeconds(10));
            await h.IdleAsync();
        };

        await h.PassAsync();

        h.Log.Count(EventIds.VmDiscovered).ShouldBe(0);
        h.Provider.Calls(nameof(h.Provider.DestroyVmAsync)).ShouldBe(1);
        var vm = (await h.VmAsync("vm-c"))!;
        vm.State.ShouldBeNull();
        vm.Get(VmFields.Discovered).ShouldBeNull();
    }

    [Fact]
    public async Task ReconcileAsync_VmOfAnotherPoolInProvider_LeftAlone()
    {
        await using var h = new ReconcilerHarness(size: 0);
        await h.Dummy.CreateVmAsync(new PoolOptions { Name = "other", Template = "tpl" }, "neighbour", CancellationToken.None);

        await h.PassAsync();

        h.ProviderHas("neighbour").ShouldBeTrue();
        (await h.VmAsync("neighbour")).ShouldBeNull();
    }

    // ---- Provider failure ----

    [Fact]
    public async Task ReconcileAsync_ProviderListingFails_ProviderErrorAndNothingChanges()
    {
        await using var h = new ReconcilerHarness(size: 3, new DummyProviderOptions { VmsInPoolFailPercent = 100 });
        await h.SeedReadyAsync("vm-r");
        await h.SeedCompletedAsync("vm-c");
        await h.SeedRunningAsync("vm-u");
        await h.CreateInProviderAsync("stray");
        h.Time.Advance(TimeSpan.FromHours(30));
        var before = await h.SnapshotAsync();

        var result = await h.PassAsync();

        result.ProviderError.ShouldNotBeNull().ShouldContain("vms_in_pool");
        result.DidWork.ShouldBeFalse();
        var after = await h.SnapshotAsync();
        after.Ready.Select(v => v.Name).ShouldBe(before.Ready.Select(v => v.Name));
        after.Running.Select(v => v.Name).ShouldBe(before.Running.Select(v => v.Name));
        after.Completed.Select(v => v.Name).ShouldBe(before.Completed.Select(v => v.Name));
        after.Pending.ShouldBeEmpty();
        (await h.VmAsync("stray")).ShouldBeNull();
        h.Dummy.Vms.Count.ShouldBe(4);
        h.Provider.Calls(nameof(h.Provider.CreateVmAsync)).ShouldBe(0);
        h.Provider.Calls(nameof(h.Provider.DestroyVmAsync)).ShouldBe(0);
        h.Provider.Calls(nameof(h.Provider.CheckVmReadyAsync)).ShouldBe(0);
    }
}
