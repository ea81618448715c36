namespace VmPooler.Core.Leases;

/// <summary>
/// Per-pool ownership for any number of pool managers (DESIGN.md "Pool manager"): each pool is owned by at most one
/// manager at a time through a lease with a time-to-live, and the live managers announce themselves in a registry so
/// they can rebalance the pools among themselves. Every operation is atomic per pool; a lease that is not renewed
/// within its time-to-live is free again.
/// </summary>
public interface IPoolLeaseStore
{
    /// <summary>
    /// Takes each pool's lease for <paramref name="managerId"/> when it is free, or renews it when that manager already
    /// holds it (also after a restart with the same id). Returns the pools <paramref name="managerId"/> holds now (a
    /// subset of <paramref name="pools"/>); pools held by another manager are left alone.
    /// </summary>
    Task<IReadOnlySet<string>> AcquireAsync(string managerId, IReadOnlyCollection<string> pools, TimeSpan timeToLive, CancellationToken cancellationToken);

    /// <summary>Gives up the leases of <paramref name="pools"/> that <paramref name="managerId"/> holds (others' are untouched).</summary>
    Task ReleaseAsync(string managerId, IReadOnlyCollection<string> pools, CancellationToken cancellationToken);

    /// <summary>The current owner of each pool that has one (pools without an owner are absent).</summary>
    Task<IReadOnlyDictionary<string, string>> GetOwnersAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken);

    /// <summary>Announces (or renews) a live manager; it drops out of <see cref="GetManagersAsync"/> when not renewed within <paramref name="timeToLive"/>.</summary>
    Task RegisterAsync(ManagerRegistration registration, TimeSpan timeToLive, CancellationToken cancellationToken);

    /// <summary>Removes a manager from the registry at once (a graceful stop).</summary>
    Task UnregisterAsync(string managerId, CancellationToken cancellationToken);

    /// <summary>The live managers (registered and renewed within their time-to-live), ordered by id.</summary>
    Task<IReadOnlyList<ManagerRegistration>> GetManagersAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Calls <paramref name="onChange"/> (on any thread) when a manager registers for the first time, unregisters or
    /// releases leases, so the others rebalance at once instead of at their next renewal. Dispose the result to stop.
    /// </summary>
    IDisposable SubscribeChanges(Action onChange);
}
