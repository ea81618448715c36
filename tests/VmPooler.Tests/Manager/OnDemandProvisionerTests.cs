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
        public Rig(int size, TimeSpan boot, TimeSpan? ttl = null, int maxVmRetries = 3)
        {
            Harness = new ReconcilerHarness(
                size,
                new DummyProviderOptions { BootMinTime = boot, BootMaxTime = boot },
                new GlobalOptions { OnDemandRequestTtl = ttl ?? GlobalOptions.DefaultOnDemandRequestTtl, MaxVmRetries = maxVmRetries });
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
    public async Task RunOnDemand_ClonesKeepFailing_RetriedMaxVmRetriesTimesThenTheRequestFails()
    {
        await using var rig = new Rig(size: 0, Boot, ttl: TimeSpan.FromHours(24), maxVmRetries: 2);
        rig.Harness.Provider.CreateFailure = _ => new InvalidOperationException("datastore busy");
        await rig.CreateAsync("r1", 1);

        for (var round = 0; round < 6; round++)
        {
            await rig.OnDemandAsync();
            rig.Harness.Time.Advance(TimeSpan.FromMinutes(30)); // past the pool's clone back-off
        }

        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(3, "the first clone and max_vm_retries (2) retries");
        var request = await rig.RequestAsync("r1");
        request.Status.ShouldBe(OnDemandStatus.Failed);
        request.RetryCount.ShouldBe(3);
        request.FailureReason.ShouldNotBeNull();
        request.FailureReason.ShouldContain("3 instances failed, more than max_vm_retries (2)");
        request.FailureReason.ShouldContain("datastore busy");
        (await rig.OnDemandVmsAsync("r1")).ShouldBeEmpty("no VM of the failed clones is left tracked");
    }

    [Fact]
    public async Task RunOnDemand_PermanentCloneError_FailsTheRequestWithoutRetrying()
    {
        await using var rig = new Rig(size: 0, Boot, ttl: TimeSpan.FromHours(24));
        rig.Harness.Provider.CreateFailure = _ => new InvalidOperationException("template 'tpl' not found in datacenter 'dc1'");
        await rig.CreateAsync("r1", 2);

        for (var round = 0; round < 4; round++)
        {
            await rig.OnDemandAsync();
            rig.Harness.Time.Advance(TimeSpan.FromMinutes(30));
        }

        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(2, "both clones of the first round, and no retry");
        var request = await rig.RequestAsync("r1");
        request.Status.ShouldBe(OnDemandStatus.Failed);
        request.PermanentError.ShouldBeTrue();
        request.FailureReason!.ShouldContain("retrying cannot fix: ");
        request.FailureReason!.ShouldContain("template 'tpl' not found");
    }

    [Fact]
    public async Task RunOnDemand_OneCloneFailsThenSucceeds_TheRetryCompletesTheRequest()
    {
        await using var rig = new Rig(size: 0, Boot, ttl: TimeSpan.FromHours(24));
        var failures = 1;
        rig.Harness.Provider.CreateFailure = _ => Interlocked.Decrement(ref failures) >= 0 ? new InvalidOperationException("clone task failed: host busy") : null;
        await rig.CreateAsync("r1", 2);

        await rig.OnDemandAsync();
        (await rig.RequestAsync("r1")).RetryCount.ShouldBe(1);
        rig.Harness.Time.Advance(TimeSpan.FromMinutes(30));
        await rig.OnDemandAsync();
        rig.Harness.Time.Advance(Boot + TimeSpan.FromSeconds(1));
        await rig.PassAsync();
        await rig.OnDemandAsync();

        rig.Harness.Provider.Calls(nameof(rig.Harness.Provider.CreateVmAsync)).ShouldBe(3);
        var request = await rig.RequestAsync("r1");
        request.Status.ShouldBe(OnDemandStatus.Ready);
        request.DeliveredVms.Count().ShouldBe(2);
        request.LastError!.ShouldContain("clone task failed: host busy");
    }

    [Theory]
    [InlineData("InvalidOperationException", "Template 'debian-12' not found", true)]
    [InlineData("InvalidOperationException", "folder 'vmpooler/pool1' not found", true)]
    [InlineData("InvalidOperationException", "datastore 'ds9' was not found", true)]
    [InlineData("IOException", "/var/lib/images/base.qcow2 does not exist", true)]
    [InlineData("VSphereFault", "Permission to perform this operation was denied", true)]
    [InlineData("VSphereFault", "Authentication failed for user vmpooler", true)]
    [InlineData("InvalidOperationException", "invalid login credentials", true)]
    [InlineData("InvalidOperationException", "configuration error in pool tiny", true)]
    [InlineData("ArgumentException", "anything at all", true)]
    [InlineData("VSphereException", "pool p: clone target 'cluster9' not found in datacenter 'dc1'", true)]
    [InlineData("VSphereException", "pool p: no clone target (set clone_target on the pool or in :config:)", true)]
    [InlineData("VSphereLoginException", "vSphere login to https://vc/sdk as 'x' was refused: the username or password is wrong (InvalidLogin)", true)]
    [InlineData("FileNotFoundException", "base image missing", true)]
    [InlineData("TimeoutException", "the provider did not answer within 60 seconds", false)]
    [InlineData("DummyProviderException", "dummy provider: injected create_vm failure", false)]
    [InlineData("InvalidOperationException", "failed to obtain an IP address after the clone", false)]
    [InlineData("IOException", "Address already in use", false)]
    public void PermanentErrors_TellWhatRetryingCannotFix(string errorClass, string message, bool permanent)
        => PermanentErrors.IsPermanent(errorClass, message).ShouldBe(permanent);

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
        await using var rig = new Rig(size: 0, TimeSpan.FromHours(1), ttl: TimeSpan.FromMinutes(5));
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
        await using var rig = new Rig(size: 0, TimeSpan.FromHours(1), ttl: TimeSpan.FromMinutes(5));
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
