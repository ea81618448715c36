namespace VmPooler.Core.Inventory;

/// <summary>
/// The queue of work the API asks of the manager for checked-out VMs (spec §4.9): add a disk, take a snapshot, revert to
/// one. Each pool has its own queue, taken only by the manager that owns the pool (so a task runs where the pool's
/// provider is, <c>--pools-label</c>); first in, first out within a pool, so a snapshot queued before a revert is taken
/// first.
/// </summary>
public interface IVmTaskQueue
{
    /// <summary>Queues <paramref name="task"/> for the owner of <see cref="VmTask.Pool"/>.</summary>
    Task EnqueueAsync(VmTask task, CancellationToken cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="max"/> tasks of the pools <paramref name="owned"/> accepts, oldest first within each
    /// pool (empty when there are none). A task is taken once, whichever manager asks.
    /// </summary>
    Task<IReadOnlyList<VmTask>> DequeueAsync(Func<string, bool> owned, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="max"/> tasks queued without their pool (by an earlier version, which kept one queue
    /// for every pool); their <see cref="VmTask.Pool"/> is empty. The holder of the global lease routes them to their
    /// pools. Stores that never had such a queue have none.
    /// </summary>
    Task<IReadOnlyList<VmTask>> TakeUnroutedAsync(int max, CancellationToken cancellationToken)
        => Task.FromResult<IReadOnlyList<VmTask>>([]);

    /// <summary>
    /// Finds tasks of <paramref name="pools"/> that no take would see (a push or a take interrupted between its steps,
    /// e.g. by a crash or a lost connection) and makes them visible again; answers how many pools that were. The holder
    /// of the global lease calls it now and then. Stores whose push and take are single steps have nothing to recover.
    /// </summary>
    Task<int> RecoverAsync(IEnumerable<string> pools, CancellationToken cancellationToken) => Task.FromResult(0);

    /// <summary>How many tasks wait in all (the <c>queue.tasks</c> gauge); null when the store cannot tell.</summary>
    Task<long?> LengthAsync(CancellationToken cancellationToken) => Task.FromResult<long?>(null);
}
