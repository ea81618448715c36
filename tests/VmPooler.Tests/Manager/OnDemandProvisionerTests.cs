using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;
using VmPooler.Manager;
using VmPooler.Providers.Dummy;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Manager;

/// <summary>
/// The manager side of on-demand requests (spec §4.7), driven step by step on a manual clock: <see cref="ManagerJobs.RunOnDemandAsync"/>
/// starts the clones a request lacks, a reconciler pass delivers them once ready, and a request still incomplete after
/// <c>ondemand_request_ttl</c> fails. Nothing sleeps: the dummy provider's boot time is measured on the manual clock.
/// </summary>
public class OnDemandProvisionerTests
{
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(60);

    /// <summary>A harness with a reconciler and jobs that share one on-demand store and one override store.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        public Rig(int size, TimeSpan boot, double ttlMinutes = 5)
        {
            Harness = new ReconcilerHarness(
                size,
                new DummyProviderOptions { BootMinTime = boot, BootMaxTime = boot },
                new GlobalOptions { OnDemandRequestTtlMinutes = ttlMinutes });
            Store = new MemoryOnDemandStore(Harness.Time);
            Reconciler = new PoolReconciler(
                Harness.Options, Harness.Inventory, [Harness.Provider], Harness.Time, Harness.Log, overrides: Overrides, onDemand: Store);
            Jobs = new ManagerJobs(
                Harness.Options, Harness.Inventory, Reconciler, [Harness.Provider], new MemoryVmTaskQueue(), Store, Overrides, Harness.Time, NullLogger<ManagerJobs>.Instance);
        }

        public ReconcilerHarness Harness { get; }

        public MemoryOnDemandStore Store { get; }

        public MemoryPoolOverrideStore Overrides { get; } = new();

        public PoolReconciler Reconciler { get; }

        public ManagerJobs Jobs { get; }

        public async Task CreateAsync(string id, int count)
            => (await Store.CreateAsync(
                new OnDemandRequest(id, [new OnDemandEntry(ReconcilerHarness.PoolName, ReconcilerHarness.PoolName, count)], OnDemandStatus.Pending, Harness.Time.GetUtcNow()),
                CancellationToken.None)).ShouldBeTrue();

        public async Task OnDemandAsync()
        {
            await Jobs.RunOnDemandAsync(CancellationToken.None).DefaultTimeout();
            await Reconciler.WhenIdleAsync().DefaultTimeout();
        }

        public async Task PassAsync()
        {
            await Reconciler.ReconcileAsync(Harness.Pool, CancellationToken.None).DefaultTimeout();
            await Reconciler.WhenIdleAsync().DefaultTimeout();
        }

        public async Task<OnDemandRequest> RequestAsync(string id)
            => (await Store.GetAsync(id, CancellationToken.None)).ShouldNotBeNull();

        public async Task<IReadOnlyList<VmRecord>> OnDemandVmsAsync(string id)
        {
            var snapshot = await Harness.SnapshotAsync();
            return [.. snapshot.Pending.Concat(snapshot.Ready).Concat(snapshot.Running).Concat(snapshot.Completed)
                .Where(v => v.Get(VmFields.RequestId) == id)];
        }

        public async ValueTask DisposeAsync()
        {
            await Reconciler.DisposeAsync().AsTask().DefaultTimeout();
            await Harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task RunOnDemand_PendingRequest_StartsItsClonesOnceAndTagsThem()
    {
        await using var rig = new Rig(size: 0, Boot);
        await rig.CreateAsync("r1", 2);

        await rig.OnDemandAsync();
        await rig.OnDemandAsync();

        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(2, "clones in flight are counted, so a second round starts none");
        var vms = await rig.OnDemandVmsAsync("r1");
        vms.Count.ShouldBe(2);
        vms.ShouldAllBe(v => v.State == VmState.Pending && v.Get(VmFields.RequestName) == ReconcilerHarness.PoolName);
        (await rig.RequestAsync("r1")).Status.ShouldBe(OnDemandStatus.Pending);
    }

    [Fact]
    public async Task Pass_OnDemandVmsBecomeReady_AreCheckedOutToTheRequestAndDoNotCountTowardsThePool()
    {
        await using var rig = new Rig(size: 1, Boot);
        await rig.PassAsync();
        await rig.CreateAsync("r1", 2);
        await rig.OnDemandAsync();
        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(3);

        rig.Harness.Time.Advance(Boot + TimeSpan.FromSeconds(1));
        await rig.PassAsync();
        await rig.PassAsync();

        var counts = await rig.Harness.CountsAsync();
        counts.Ready.ShouldBe(1, "the pool's own VM is ready");
        counts.Running.ShouldBe(2, "the on-demand VMs were checked out to the request");
        counts.Pending.ShouldBe(0);
        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(3, "the pool cloned no replacement for the on-demand VMs");
        var request = await rig.RequestAsync("r1");
        request.Delivered[$"{ReconcilerHarness.PoolName}:{ReconcilerHarness.PoolName}"].Count.ShouldBe(2);
        (await rig.OnDemandVmsAsync("r1")).ShouldAllBe(v => v.State == VmState.Running && v.Get(VmFields.Checkout) != null);

        await rig.OnDemandAsync();

        request = await rig.RequestAsync("r1");
        request.Status.ShouldBe(OnDemandStatus.Ready);
        (await rig.Store.PendingAsync(CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Pass_PoolOfSizeOneWithPendingOnDemandClones_StillClonesItsOwnVm()
    {
        await using var rig = new Rig(size: 1, Boot);
        await rig.CreateAsync("r1", 3);
        await rig.OnDemandAsync();

        await rig.PassAsync();

        var snapshot = await rig.Harness.SnapshotAsync();
        snapshot.Pending.Count.ShouldBe(4, "three for the request, one for the pool");
        snapshot.Pending.Count(v => !PoolReconciler.IsOnDemand(v)).ShouldBe(1);
    }

    [Fact]
    public async Task RunOnDemand_TtlPassesBeforeTheVmsBoot_FailsTheRequestAndItsVmsAreDestroyed()
    {
        await using var rig = new Rig(size: 0, TimeSpan.FromHours(1), ttlMinutes: 5);
        await rig.CreateAsync("slow", 2);
        await rig.OnDemandAsync();

        rig.Harness.Time.Advance(TimeSpan.FromMinutes(4));
        await rig.PassAsync();
        await rig.OnDemandAsync();
        (await rig.RequestAsync("slow")).Status.ShouldBe(OnDemandStatus.Pending, "4 minutes is within the 5 minute TTL");

        rig.Harness.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await rig.OnDemandAsync();

        var failed = await rig.RequestAsync("slow");
        failed.Status.ShouldBe(OnDemandStatus.Failed);
        failed.FailureReason.ShouldNotBeNull().ShouldContain("ondemand_request_ttl");
        (await rig.Store.PendingAsync(CancellationToken.None)).ShouldNotContain("slow");
        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(2);

        // Once the clones finally boot (or time out pending), nothing delivers them: they are destroyed, not stranded.
        var vms = (await rig.OnDemandVmsAsync("slow")).Select(v => v.Name).ToList();
        rig.Harness.Time.Advance(TimeSpan.FromHours(1));
        await rig.PassAsync();
        await rig.PassAsync();
        await rig.OnDemandAsync();

        foreach (var vm in vms)
        {
            rig.Harness.ProviderHas(vm).ShouldBeFalse($"{vm} of the failed request is destroyed");
        }

        (await rig.Harness.CountsAsync()).Running.ShouldBe(0);
        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(2, "a failed request starts no more clones");
        (await rig.RequestAsync("slow")).Delivered.Values.SelectMany(v => v).ShouldBeEmpty();
    }

    [Fact]
    public async Task RunOnDemand_TtlPassesWithPartOfTheRequestDelivered_ReturnsWhatWasDelivered()
    {
        await using var rig = new Rig(size: 0, TimeSpan.FromHours(1), ttlMinutes: 5);
        await rig.CreateAsync("partial", 2);
        await rig.Harness.SeedRunningAsync("delivered-vm");
        (await rig.Store.DeliverAsync("partial", new OnDemandEntry(ReconcilerHarness.PoolName, ReconcilerHarness.PoolName, 2), "delivered-vm", CancellationToken.None))
            .ShouldBeTrue();

        rig.Harness.Time.Advance(TimeSpan.FromMinutes(6));
        await rig.OnDemandAsync();

        (await rig.RequestAsync("partial")).Status.ShouldBe(OnDemandStatus.Failed);
        (await rig.Harness.VmAsync("delivered-vm")).ShouldNotBeNull().State.ShouldBe(VmState.Completed);
        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(0, "an expired request starts no clones");
    }

    [Fact]
    public async Task RunOnDemand_DeletedRequest_IsIgnoredAndItsLateVmsAreDestroyed()
    {
        await using var rig = new Rig(size: 0, Boot);
        await rig.CreateAsync("gone", 1);
        await rig.OnDemandAsync();
        (await rig.Store.SetStatusAsync("gone", OnDemandStatus.Pending, OnDemandStatus.Deleted, TimeSpan.FromDays(15), null, CancellationToken.None)).ShouldBeTrue();
        var vm = (await rig.OnDemandVmsAsync("gone")).ShouldHaveSingleItem().Name;

        rig.Harness.Time.Advance(Boot + TimeSpan.FromSeconds(1));
        await rig.PassAsync();
        await rig.OnDemandAsync();

        rig.Harness.ProviderHas(vm).ShouldBeFalse("a VM that boots for a deleted request is destroyed");
        var request = await rig.RequestAsync("gone");
        request.Status.ShouldBe(OnDemandStatus.Deleted);
        request.Delivered.Values.SelectMany(v => v).ShouldBeEmpty();
        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(1);
    }

    [Fact]
    public async Task RunOnDemand_MoreThanTheCloneLimit_StartsOnlyUpToTheLimitAtOnce()
    {
        await using var rig = new Rig(size: 0, Boot);
        var limit = rig.Harness.Options.Config.OnDemandCloneLimit;
        await rig.CreateAsync("many-a", limit);
        await rig.CreateAsync("many-b", 2);

        await rig.Jobs.RunOnDemandAsync(CancellationToken.None).DefaultTimeout();
        await rig.Reconciler.WhenIdleAsync().DefaultTimeout();
        await rig.OnDemandAsync();

        // Clones with no provider delay finish at once and free their slot, so all are eventually started — but each
        // request gets exactly what it asked for.
        (await rig.OnDemandVmsAsync("many-a")).Count.ShouldBe(limit);
        (await rig.OnDemandVmsAsync("many-b")).Count.ShouldBe(2);
    }
}
