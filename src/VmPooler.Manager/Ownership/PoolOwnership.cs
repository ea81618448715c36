using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;

namespace VmPooler.Manager.Ownership;

/// <summary>
/// Which pools this manager owns (DESIGN.md "Pool manager", ownership). Every renewal interval (a third of the lease's
/// time-to-live), and at once when another manager comes or goes, it registers itself, reads the live managers and
/// takes the pools that rendezvous hashing gives it among the managers whose labels accept the pool: every manager
/// computes the same split, a manager that comes or goes moves only its share, and a pool still held by its previous
/// owner is taken when that owner lets it go (at its next renewal) or its lease runs out. A pool counts as owned only
/// while its lease was renewed within the time-to-live, so a manager cut off from the inventory stops acting on it
/// before another can take it.
/// </summary>
internal sealed class PoolOwnership(
    IPoolLeaseStore store,
    ManagerIdentity identity,
    VmPoolerOptions options,
    TimeProvider time,
    ILogger logger,
    Func<IReadOnlyCollection<string>, Task>? whenStopped = null)
{
    /// <summary>How long a handover waits for this manager's work on the pools it lets go to end.</summary>
    private static readonly TimeSpan HandOverWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long after another manager's registration runs out the next round comes: its leases were renewed a moment
    /// after its registration (the same round), so they have lapsed too by then.
    /// </summary>
    internal static readonly TimeSpan LapseMargin = TimeSpan.FromMilliseconds(250);

    /// <summary>The wait before another round while pools this manager should own are still held by others.</summary>
    internal static readonly TimeSpan QuickRetry = TimeSpan.FromMilliseconds(500);

    /// <summary>At most this many quick rounds in a row; then the renewal interval again.</summary>
    private const int MaxQuickRetries = 10;

    private readonly System.Threading.Channels.Channel<bool> _wake = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
    private volatile IReadOnlySet<string> _owned = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The pools last reported to the manager as owned (gained and lost are told against this set).</summary>
    private volatile IReadOnlySet<string> _reported = new HashSet<string>(StringComparer.Ordinal);
    private long _renewedAt;
    private TimeSpan _nextRound;
    private int _quickRetries;

    public string ManagerId => identity.Id;

    public TimeSpan TimeToLive => options.Config.ManagerLeaseTtl;

    /// <summary>The pools this manager owns now.</summary>
    public IReadOnlySet<string> Owned => Fresh() ? _owned : new HashSet<string>();

    /// <summary>True while this manager holds the pool's lease (renewed within its time-to-live).</summary>
    public bool Owns(string pool) => Fresh() && _owned.Contains(pool);

    /// <summary>
    /// True when the pool was last reported as owned and not as lost since: owned, or owned until its lease lapsed
    /// because renewals failed, in which case the next successful round either renews it (no report: the pool simply
    /// goes on) or reports it lost.
    /// </summary>
    public bool Claims(string pool) => _reported.Contains(pool);

    /// <summary>
    /// Keeps the leases until <paramref name="cancellationToken"/> is cancelled, then hands every pool over at once.
    /// <paramref name="changed"/> is told each round's gained and lost pools (lost ones before their leases are released).
    /// </summary>
    public async Task RunAsync(Action<IReadOnlyCollection<string>, IReadOnlyCollection<string>> changed, CancellationToken cancellationToken)
    {
        using var subscription = store.SubscribeChanges(Wake);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await RebalanceOnceAsync(changed, cancellationToken);
                await WaitAsync(_nextRound, cancellationToken);
            }
        }
        finally
        {
            await HandOverAsync(changed);
        }
    }

    /// <summary>One round: register, read the live managers, release what is no longer ours, take what is.</summary>
    public async Task RebalanceOnceAsync(Action<IReadOnlyCollection<string>, IReadOnlyCollection<string>> changed, CancellationToken cancellationToken)
    {
        _nextRound = TimeToLive / 3;
        try
        {
            var started = time.GetTimestamp();
            var owned = _owned;
            await store.RegisterAsync(new ManagerRegistration(identity.Id, [.. owned.Order(StringComparer.Ordinal)], identity.PoolSelector, time.GetUtcNow()), TimeToLive, cancellationToken);
            var managers = await store.GetManagersAsync(cancellationToken);
            var desired = Desired(managers);
            var letGo = owned.Where(p => !desired.Contains(p)).ToList();
            if (letGo.Count > 0)
            {
                // Its clones here stop before another manager may take the pool.
                _owned = owned.Where(p => !letGo.Contains(p)).ToHashSet(StringComparer.Ordinal);
                Report(_owned, changed);
                await WhenStoppedAsync(letGo, cancellationToken);
                await store.ReleaseAsync(identity.Id, letGo, cancellationToken);
            }

            var held = await store.AcquireAsync(identity.Id, desired, TimeToLive, cancellationToken);
            if (_reported.Count > 0 && !Fresh())
            {
                ManagerLog.OwnershipLapsed(logger, time.GetElapsedTime(Volatile.Read(ref _renewedAt)), TimeToLive);
            }

            _owned = held.ToHashSet(StringComparer.Ordinal);
            Volatile.Write(ref _renewedAt, started);
            Report(held, changed);
            _nextRound = NextRound(managers, desired.Count - held.Count);
        }
        catch (InventoryUnavailableException ex)
        {
            ManagerLog.OwnershipUnavailable(logger, ex.Message);
            if (!Fresh())
            {
                // The leases may have run out meanwhile: the manager stops on every pool and takes them again (with a
                // full pass each) once a round succeeds.
                Report(new HashSet<string>(StringComparer.Ordinal), changed);
            }
        }
    }

    /// <summary>Tells the manager what it gained and lost since the last report.</summary>
    private void Report(IReadOnlySet<string> held, Action<IReadOnlyCollection<string>, IReadOnlyCollection<string>> changed)
    {
        var reported = _reported;
        var gained = held.Where(p => !reported.Contains(p)).ToList();
        var lost = reported.Where(p => !held.Contains(p)).ToList();
        _reported = held;
        if (gained.Count + lost.Count > 0)
        {
            ManagerLog.PoolsOwned(logger, identity.Id, held.Count, gained.Count, lost.Count);
            changed(gained, lost);
        }
    }

    /// <summary>
    /// The pools this manager should own: those whose highest rendezvous score, among the live managers whose labels
    /// accept the pool, is this manager's (this manager always counts as live).
    /// </summary>
    private List<string> Desired(IReadOnlyList<ManagerRegistration> managers)
    {
        var others = managers.Where(m => m.Id != identity.Id).ToList();
        var desired = new List<string>();
        foreach (var pool in options.Pools.Where(p => identity.Accepts(p.Labels)))
        {
            var mine = Score(pool.Name, identity.Id);
            if (others.All(m => !new ManagerIdentity(m.Id, m.Labels).Accepts(pool.Labels) || Score(pool.Name, m.Id) < mine))
            {
                desired.Add(pool.Name);
            }
        }

        return desired;
    }

    /// <summary>
    /// When the next round comes: at the renewal interval, unless another manager's registration runs out sooner (it
    /// stopped renewing: its pools are taken a moment after its leases lapse, not at the next renewal after that), or
    /// pools this manager should own are still held by another (a lease about to lapse, or an owner about to let go).
    /// Registrations carry their manager's clock: a skewed one only moves an extra round earlier or later.
    /// </summary>
    private TimeSpan NextRound(IReadOnlyList<ManagerRegistration> managers, int notHeld)
    {
        var next = TimeToLive / 3;
        var now = time.GetUtcNow();
        foreach (var manager in managers.Where(m => m.Id != identity.Id))
        {
            var lapsesIn = manager.Renewed + TimeToLive - now + LapseMargin;
            if (lapsesIn > TimeSpan.Zero && lapsesIn < next)
            {
                next = lapsesIn;
            }
        }

        if (notHeld == 0)
        {
            _quickRetries = 0;
        }
        else if (_quickRetries < MaxQuickRetries && QuickRetry < next)
        {
            _quickRetries++;
            next = QuickRetry;
        }

        return next;
    }

    /// <summary>The rendezvous (highest random weight) score of a pool for a manager: stable across processes.</summary>
    internal static ulong Score(string pool, string managerId)
        => BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(pool + "\n" + managerId)), 0);

    /// <summary>Waits (bounded) until the manager's clones of pools it lets go have stopped, before their leases go.</summary>
    private async Task WhenStoppedAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
    {
        if (whenStopped is null)
        {
            return;
        }

        try
        {
            await whenStopped(pools).WaitAsync(HandOverWait, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Still running: the lease goes anyway; whatever the clone leaves is found by the new owner's pass.
        }
    }

    private async Task HandOverAsync(Action<IReadOnlyCollection<string>, IReadOnlyCollection<string>> changed)
    {
        var owned = _owned;
        _owned = new HashSet<string>(StringComparer.Ordinal);
        Report(_owned, changed);
        await WhenStoppedAsync([.. owned], CancellationToken.None);
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2), time);
            await store.ReleaseAsync(identity.Id, [.. owned], limit.Token);
            await store.UnregisterAsync(identity.Id, limit.Token);
        }
        catch (Exception ex) when (ex is InventoryUnavailableException or OperationCanceledException)
        {
            // The leases simply run out.
        }
    }

    private bool Fresh()
    {
        var renewed = Volatile.Read(ref _renewedAt);
        return renewed != 0 && time.GetElapsedTime(renewed) < TimeToLive;
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Waits for the next round: the renewal interval on the injected clock, or a wake-up from the registry.</summary>
    private async Task WaitAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(interval, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await _wake.Reader.ReadAsync(linked.Token);
        }
        catch (OperationCanceledException)
        {
            // The interval passed (or the manager stops).
        }
    }
}
