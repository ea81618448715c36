using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;
using VmPooler.Manager;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Manager;

/// <summary>
/// A pool's queued VM tasks and reset requests are taken by the manager that owns the pool, where its provider is
/// (<c>--pools-label</c> affinity), and are left queued for the owner by every other manager; tasks an earlier version
/// queued without their pool are routed to their VM's pool by the global job.
/// </summary>
public sealed class ManagerJobsOwnershipTests : IAsyncLifetime
{
    private const string Vm = "vm-running";

    private readonly ReconcilerHarness _harness = new();
    private readonly LegacyTaskQueue _tasks = new();
    private readonly MemoryPoolOverrideStore _overrides = new();
    private readonly ManagerJobs _jobs;
    private bool _owned;

    public ManagerJobsOwnershipTests()
    {
        _jobs = new ManagerJobs(
            _harness.Options, _harness.Inventory, _harness.Reconciler, [_harness.Provider], _tasks, new MemoryOnDemandStore(_harness.Time), _overrides, _harness.Time, NullLogger<ManagerJobs>.Instance);
        _jobs.Bind(_ => _owned, _ => { });
    }

    private static CancellationToken None => CancellationToken.None;

    public Task InitializeAsync() => _harness.SeedRunningAsync(Vm);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Task_OfAPoolAnotherManagerOwns_StaysQueuedUntilItsOwnerTakesIt()
    {
        await _tasks.EnqueueAsync(new VmTask(VmTaskKind.Snapshot, ReconcilerHarness.PoolName, Vm, "before"), None);

        await _jobs.RunOwnedOnceAsync(None).DefaultTimeout();

        (await _harness.VmAsync(Vm)).ShouldNotBeNull().View.HasSnapshot("before").ShouldBeFalse("not this manager's pool");
        (await _tasks.LengthAsync(None)).ShouldBe(1, "left for the pool's owner");

        _owned = true;
        await _jobs.RunOwnedOnceAsync(None).DefaultTimeout();

        (await _harness.VmAsync(Vm)).ShouldNotBeNull().View.HasSnapshot("before").ShouldBeTrue();
        (await _tasks.LengthAsync(None)).ShouldBe(0);
    }

    [Fact]
    public async Task Reset_OfAPoolAnotherManagerOwns_IsLeftForItsOwner()
    {
        await _overrides.RequestResetAsync(ReconcilerHarness.PoolName, None);

        await _jobs.RunOnceAsync(None).DefaultTimeout();

        (await _overrides.TakeResetsAsync(_ => false, None)).ShouldBeEmpty();
        (await _overrides.TakeResetsAsync(_ => true, None)).ShouldBe([ReconcilerHarness.PoolName], "the global job leaves a configured pool's reset alone");
    }

    [Fact]
    public async Task Reset_OfAPoolNoLongerConfigured_IsDroppedByTheGlobalJob()
    {
        await _overrides.RequestResetAsync("removed-pool", None);

        await _jobs.RunGlobalOnceAsync(None).DefaultTimeout();

        (await _overrides.TakeResetsAsync(_ => true, None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task UnroutedTask_IsMovedToItsVmsPoolAndRunByTheOwner()
    {
        _tasks.Unrouted.Enqueue(new VmTask(VmTaskKind.Snapshot, "", Vm, "legacy"));
        _tasks.Unrouted.Enqueue(new VmTask(VmTaskKind.Snapshot, "", "vm-gone", "legacy"));

        await _jobs.RunGlobalOnceAsync(None).DefaultTimeout();

        (await _tasks.DequeueAsync(p => p == ReconcilerHarness.PoolName, 10, None))
            .ShouldBe([new VmTask(VmTaskKind.Snapshot, ReconcilerHarness.PoolName, Vm, "legacy")], "the unknown VM's task is dropped");
        _tasks.Unrouted.ShouldBeEmpty();
    }

    [Fact]
    public async Task UnseenTasks_AreRecoveredByTheGlobalJob_OncePerRecoveryInterval()
    {
        _tasks.Unseen = 1;

        await _jobs.RunGlobalOnceAsync(None).DefaultTimeout();
        await _jobs.RunGlobalOnceAsync(None).DefaultTimeout();
        _harness.Time.Advance(_jobs.TaskRecoveryInterval - TimeSpan.FromSeconds(1));
        await _jobs.RunGlobalOnceAsync(None).DefaultTimeout();

        _tasks.Recoveries.ShouldBe([[ReconcilerHarness.PoolName]], "the configured pools, once within the interval");

        _harness.Time.Advance(TimeSpan.FromSeconds(1));
        await _jobs.RunGlobalOnceAsync(None).DefaultTimeout();

        _tasks.Recoveries.Count.ShouldBe(2);
    }

    [Fact]
    public async Task UnseenTasks_AreNotLookedForByTheOwnedJobs()
    {
        _owned = true;

        await _jobs.RunOwnedOnceAsync(None).DefaultTimeout();

        _tasks.Recoveries.ShouldBeEmpty("recovery reads every pool's queue: once per installation, by the global job");
    }

    /// <summary>The memory queue plus a list of tasks queued without their pool, as an earlier version's Redis list held them.</summary>
    private sealed class LegacyTaskQueue : IVmTaskQueue
    {
        private readonly MemoryVmTaskQueue _inner = new();

        public Queue<VmTask> Unrouted { get; } = new();

        public List<IReadOnlyList<string>> Recoveries { get; } = [];

        public int Unseen { get; set; }

        public Task EnqueueAsync(VmTask task, CancellationToken cancellationToken) => _inner.EnqueueAsync(task, cancellationToken);

        public Task<IReadOnlyList<VmTask>> DequeueAsync(Func<string, bool> owned, int max, CancellationToken cancellationToken)
            => _inner.DequeueAsync(owned, max, cancellationToken);

        public Task<IReadOnlyList<VmTask>> TakeUnroutedAsync(int max, CancellationToken cancellationToken)
        {
            var taken = new List<VmTask>();
            while (taken.Count < max && Unrouted.TryDequeue(out var task))
            {
                taken.Add(task);
            }

            return Task.FromResult<IReadOnlyList<VmTask>>(taken);
        }

        public Task<long?> LengthAsync(CancellationToken cancellationToken) => _inner.LengthAsync(cancellationToken);

        public Task<int> RecoverAsync(IEnumerable<string> pools, CancellationToken cancellationToken)
        {
            Recoveries.Add([.. pools]);
            return Task.FromResult(Unseen);
        }
    }
}
