using VmPooler.Core.Configuration;

namespace VmPooler.Core.Inventory;

/// <summary>
/// The embedded, in-process inventory: the default when no Redis is configured. One lock guards all state, so every
/// operation is atomic and conditional exactly as the contract says; each one is a handful of dictionary operations,
/// so the lock is held for microseconds. Records of forgotten VMs are kept until they expire, and at most
/// <c>max_destroyed_records_per_pool</c> of them per pool (the newest), so a long churn does not grow the process.
/// </summary>
public sealed class MemoryInventory : IInventory
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly int _maxForgottenPerPool;
    private readonly Dictionary<string, Entry> _vms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PoolSets> _pools = new(StringComparer.Ordinal);
    private readonly Dictionary<(DurationKind, DateOnly), Dictionary<string, double>> _durations = [];
    private readonly Dictionary<DateOnly, Dictionary<string, string>> _tags = [];
    private readonly Dictionary<string, DateTimeOffset> _lastBoot = new(StringComparer.Ordinal);
    private readonly List<Action<string>> _subscribers = [];
    private long _readySequence;
    private DateTimeOffset _nextSweep;

    /// <param name="timeProvider">The clock every expiry reads.</param>
    /// <param name="maxForgottenPerPool">
    /// The most records of forgotten VMs kept per pool (<c>max_destroyed_records_per_pool</c>): when one more is
    /// forgotten, the oldest goes at once.
    /// </param>
    public MemoryInventory(TimeProvider timeProvider, int maxForgottenPerPool = OperationsOptions.DefaultMaxDestroyedRecordsPerPool)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxForgottenPerPool, 1);
        _time = timeProvider;
        _maxForgottenPerPool = maxForgottenPerPool;
    }

    public Task<bool> AddPendingAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => Task.FromResult(Add(pool, vm, fields, VmState.Pending, adoptForgotten: false));

    public Task<bool> AdoptDiscoveredAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => Task.FromResult(Add(pool, vm, fields, VmState.Completed, adoptForgotten: true));

    public Task<bool> ImportVmAsync(string pool, string vm, VmState state, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => Task.FromResult(Add(pool, vm, fields, state, adoptForgotten: false));

    private bool Add(string pool, string vm, IReadOnlyDictionary<string, string> fields, VmState state, bool adoptForgotten)
    {
        lock (_gate)
        {
            SweepExpired();
            if (TryGetLive(vm, out var existing))
            {
                // A forgotten VM (metadata kept after a failed clone or a destroy) that the provider still has is
                // tracked again so that it gets destroyed; a tracked one is left alone.
                if (!adoptForgotten || existing.State is not null || existing.Pool != pool)
                {
                    return false;
                }

                var sets = Sets(pool);
                sets.Unlink(existing);
                existing.State = state;
                existing.ExpiresAt = null;
                Apply(existing, fields, null);
                sets.Add(existing);
                return true;
            }

            var entry = new Entry(vm, pool) { State = state, ReadySequence = state == VmState.Ready ? ++_readySequence : 0 };
            foreach (var (key, value) in fields)
            {
                entry.Fields[key] = value;
            }

            _vms[vm] = entry;
            Sets(pool).Add(entry);
            return true;
        }
    }

    public Task<bool> MoveAsync(
        string pool,
        string vm,
        VmState from,
        VmState to,
        IReadOnlyDictionary<string, string>? fields = null,
        IReadOnlyDictionary<string, string?>? expect = null,
        CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var moved = TryGetLive(vm, out var entry)
                && entry.Pool == pool
                && entry.State == from
                && Matches(entry, expect);
            if (moved)
            {
                var sets = Sets(pool);
                sets.Remove(entry!);
                entry!.State = to;
                if (to == VmState.Ready)
                {
                    entry.ReadySequence = ++_readySequence;
                }

                Apply(entry, fields, null);
                sets.Add(entry);
            }

            return Task.FromResult(moved);
        }
    }

    public Task<bool> ForgetAsync(
        string pool,
        string vm,
        VmState from,
        TimeSpan? keepMetadataFor,
        IReadOnlyDictionary<string, string>? fields = null,
        CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!TryGetLive(vm, out var entry) || entry.Pool != pool || entry.State != from)
            {
                return Task.FromResult(false);
            }

            var sets = Sets(pool);
            sets.Remove(entry);
            entry.State = null;
            Apply(entry, fields, null);
            if (keepMetadataFor is { } keep && keep > TimeSpan.Zero)
            {
                entry.ExpiresAt = _time.GetUtcNow() + keep;
                sets.Remember(entry);
                while (sets.Forgotten.Count > _maxForgottenPerPool)
                {
                    Drop(sets.Forgotten.First!.Value);
                }
            }
            else
            {
                _vms.Remove(vm);
            }

            return Task.FromResult(true);
        }
    }

    public Task<int> SetFieldAsync(string pool, IReadOnlyCollection<string> vms, string field, string value, CancellationToken cancellationToken)
    {
        var set = 0;
        lock (_gate)
        {
            foreach (var vm in vms)
            {
                if (TryGetLive(vm, out var entry) && entry.State is not null && entry.Pool == pool)
                {
                    entry.Fields[field] = value;
                    set++;
                }
            }
        }

        return Task.FromResult(set);
    }

    public Task<bool> UpdateFieldsAsync(
        string vm,
        IReadOnlyDictionary<string, string> set,
        IReadOnlyCollection<string>? remove = null,
        CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!TryGetLive(vm, out var entry))
            {
                return Task.FromResult(false);
            }

            Apply(entry, set, remove);
            return Task.FromResult(true);
        }
    }

    public Task<CheckoutResult> CheckoutAsync(IReadOnlyList<CheckoutItem> items, CheckoutContext context, CancellationToken cancellationToken)
    {
        var taken = new List<(Allocation Allocation, Entry Entry)>(items.Count);
        lock (_gate)
        {
            foreach (var item in items)
            {
                Entry? chosen = null;
                foreach (var candidate in item.CandidatePools)
                {
                    if (_pools.TryGetValue(candidate, out var sets) && sets.Ready.Min is { } oldest)
                    {
                        chosen = oldest;
                        sets.Remove(oldest);
                        oldest.State = VmState.Running;
                        sets.Add(oldest);
                        break;
                    }
                }

                if (chosen is null)
                {
                    // All or nothing: put back what this request took, in the order it became ready.
                    foreach (var (_, entry) in taken)
                    {
                        var sets = Sets(entry.Pool);
                        sets.Remove(entry);
                        entry.State = VmState.Ready;
                        sets.Add(entry);
                    }

                    return Task.FromResult(CheckoutResult.Failed(item.RequestedName));
                }

                taken.Add((new Allocation(item.RequestedName, chosen.Pool, chosen.Name), chosen));
            }

            var checkout = VmTime.Format(context.Now);
            foreach (var (_, entry) in taken)
            {
                entry.Fields[VmFields.Checkout] = checkout;
                if (context.Token is not null)
                {
                    entry.Fields[VmFields.Token] = context.Token;
                    entry.Fields[VmFields.TokenUser] = context.User ?? "";
                }

                if (context.Lifetime is { } lifetime)
                {
                    entry.Fields[VmFields.Lifetime] = lifetime.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }

        foreach (var pool in taken.Select(t => t.Entry.Pool).Distinct(StringComparer.Ordinal))
        {
            Notify(pool);
        }

        return Task.FromResult(new CheckoutResult([.. taken.Select(t => t.Allocation)], null));
    }

    public Task<ReturnOutcome> ReturnAsync(string vm, CancellationToken cancellationToken) => ReturnAsync(vm, unownedOnly: false);

    public Task<ReturnOutcome> ReturnUnownedAsync(string vm, CancellationToken cancellationToken) => ReturnAsync(vm, unownedOnly: true);

    private Task<ReturnOutcome> ReturnAsync(string vm, bool unownedOnly)
    {
        ReturnOutcome outcome;
        lock (_gate)
        {
            if (!TryGetLive(vm, out var entry))
            {
                outcome = new(ReturnStatus.UnknownVm, null);
            }
            else if (unownedOnly && entry.Fields.ContainsKey(VmFields.Token))
            {
                outcome = new(ReturnStatus.Owned, entry.Pool);
            }
            else if (entry.State != VmState.Running)
            {
                outcome = new(ReturnStatus.NotRunning, entry.Pool);
            }
            else
            {
                var sets = Sets(entry.Pool);
                sets.Remove(entry);
                entry.State = VmState.Completed;
                sets.Add(entry);
                outcome = new(ReturnStatus.Returned, entry.Pool);
            }
        }

        if (outcome.Status == ReturnStatus.Returned)
        {
            Notify(outcome.Pool!);
        }

        return Task.FromResult(outcome);
    }

    public Task<VmRecord?> GetVmAsync(string vm, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(TryGetLive(vm, out var entry) ? entry.ToRecord() : null);
        }
    }

    public Task<PoolSnapshot> GetPoolAsync(string pool, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            SweepExpired();
            if (!_pools.TryGetValue(pool, out var sets))
            {
                return Task.FromResult(new PoolSnapshot(pool, [], [], [], []));
            }

            return Task.FromResult(new PoolSnapshot(
                pool,
                [.. sets.Pending.Select(e => e.ToRecord())],
                [.. sets.Ready.Select(e => e.ToRecord())],
                [.. sets.Running.Select(e => e.ToRecord())],
                [.. sets.Completed.Select(e => e.ToRecord())]));
        }
    }

    public Task<PoolTally> GetTallyAsync(string pool, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<string> names = _pools.TryGetValue(pool, out var sets) ? [.. sets.Completed.Select(e => e.Name)] : [];
            return Task.FromResult(new PoolTally(CountsOf(pool), names));
        }
    }

    public Task<IReadOnlyDictionary<string, PoolCounts>> GetCountsAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, PoolCounts>(pools.Count, StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var pool in pools)
            {
                counts[pool] = CountsOf(pool);
            }
        }

        return Task.FromResult<IReadOnlyDictionary<string, PoolCounts>>(counts);
    }

    /// <summary>One pool's counts; the caller holds the lock.</summary>
    private PoolCounts CountsOf(string pool)
        => _pools.TryGetValue(pool, out var sets)
            ? new PoolCounts(
                sets.Pending.Count,
                sets.Ready.Count,
                sets.Running.Count,
                sets.Completed.Count,
                sets.Pending.Count(e => !e.Fields.ContainsKey(VmFields.CloneTime)),
                sets.Pending.Count(e => e.Fields.TryGetValue(VmFields.RequestId, out var id) && id.Length > 0))
            : default;

    public Task RecordDurationAsync(DurationKind kind, string pool, string vm, double seconds, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var key = (kind, DateOnly.FromDateTime(at.UtcDateTime));
            if (!_durations.TryGetValue(key, out var day))
            {
                _durations[key] = day = new Dictionary<string, double>(StringComparer.Ordinal);
            }

            day[$"{pool}:{vm}"] = seconds;
            if (kind == DurationKind.Boot && (!_lastBoot.TryGetValue(pool, out var last) || last < at))
            {
                _lastBoot[pool] = at;
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, double>> GetDurationsAsync(DurationKind kind, DateOnly day, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyDictionary<string, double> copy = _durations.TryGetValue((kind, day), out var values)
                ? new Dictionary<string, double>(values, StringComparer.Ordinal)
                : new Dictionary<string, double>();
            return Task.FromResult(copy);
        }
    }

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> GetLastBootAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyDictionary<string, DateTimeOffset>>(new Dictionary<string, DateTimeOffset>(_lastBoot, StringComparer.Ordinal));
        }
    }

    public Task RecordTagsAsync(string vm, IReadOnlyDictionary<string, string> tags, DateOnly day, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_tags.TryGetValue(day, out var index))
            {
                _tags[day] = index = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            foreach (var (tag, value) in tags)
            {
                index[$"{vm}:{tag}"] = value;
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The tag index of one day (<c>vm:tag</c> → value).</summary>
    public Task<IReadOnlyDictionary<string, string>> GetTagsAsync(DateOnly day, CancellationToken cancellationToken)
        => Task.FromResult(GetTags(day));

    public IReadOnlyDictionary<string, string> GetTags(DateOnly day)
    {
        lock (_gate)
        {
            return _tags.TryGetValue(day, out var index) ? new Dictionary<string, string>(index, StringComparer.Ordinal) : new Dictionary<string, string>();
        }
    }

    public IDisposable SubscribePoolChanges(Action<string> onPoolChanged)
    {
        lock (_subscribers)
        {
            _subscribers.Add(onPoolChanged);
        }

        return new Subscription(this, onPoolChanged);
    }

    private void Notify(string pool)
    {
        Action<string>[] subscribers;
        lock (_subscribers)
        {
            subscribers = [.. _subscribers];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber(pool);
        }
    }

    private static bool Matches(Entry entry, IReadOnlyDictionary<string, string?>? expect)
    {
        if (expect is null)
        {
            return true;
        }

        foreach (var (field, value) in expect)
        {
            entry.Fields.TryGetValue(field, out var actual);
            if (!string.Equals(actual, value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static void Apply(Entry entry, IReadOnlyDictionary<string, string>? set, IReadOnlyCollection<string>? remove)
    {
        if (remove is not null)
        {
            foreach (var field in remove)
            {
                entry.Fields.Remove(field);
            }
        }

        if (set is not null)
        {
            foreach (var (field, value) in set)
            {
                entry.Fields[field] = value;
            }
        }
    }

    private bool TryGetLive(string vm, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Entry? entry)
    {
        if (_vms.TryGetValue(vm, out entry))
        {
            if (entry.ExpiresAt is not { } expires || expires > _time.GetUtcNow())
            {
                return true;
            }

            Drop(entry);
        }

        entry = null;
        return false;
    }

    /// <summary>Drops expired metadata now and then (at most once a minute), so retained entries do not pile up.</summary>
    private void SweepExpired()
    {
        var now = _time.GetUtcNow();
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + TimeSpan.FromMinutes(1);
        List<Entry>? expired = null;
        foreach (var (_, entry) in _vms)
        {
            if (entry.ExpiresAt is { } expires && expires <= now)
            {
                (expired ??= []).Add(entry);
            }
        }

        expired?.ForEach(Drop);
    }

    /// <summary>Removes a forgotten VM's record: from the names and from its pool's list of forgotten records.</summary>
    private void Drop(Entry entry)
    {
        if (_vms.TryGetValue(entry.Name, out var current) && ReferenceEquals(current, entry))
        {
            _vms.Remove(entry.Name);
        }

        if (_pools.TryGetValue(entry.Pool, out var sets))
        {
            sets.Unlink(entry);
        }
    }

    private PoolSets Sets(string pool)
    {
        if (!_pools.TryGetValue(pool, out var sets))
        {
            _pools[pool] = sets = new PoolSets();
        }

        return sets;
    }

    private sealed class Entry(string name, string pool)
    {
        public string Name { get; } = name;
        public string Pool { get; } = pool;
        public VmState? State { get; set; }
        public long ReadySequence { get; set; }
        public DateTimeOffset? ExpiresAt { get; set; }

        /// <summary>This entry's place in its pool's <see cref="PoolSets.Forgotten"/> while it is a forgotten record.</summary>
        public LinkedListNode<Entry>? ForgottenNode { get; set; }
        public Dictionary<string, string> Fields { get; } = new(StringComparer.Ordinal);

        public VmRecord ToRecord() => new(Name, Pool, State, new Dictionary<string, string>(Fields, StringComparer.Ordinal));
    }

    /// <summary>One pool's state sets; ready VMs are ordered by when they became ready, oldest first.</summary>
    private sealed class PoolSets
    {
        public HashSet<Entry> Pending { get; } = [];
        public SortedSet<Entry> Ready { get; } = new(Comparer<Entry>.Create((a, b) => a.ReadySequence.CompareTo(b.ReadySequence)));
        public HashSet<Entry> Running { get; } = [];
        public HashSet<Entry> Completed { get; } = [];

        /// <summary>The records of forgotten VMs (no state, kept until they expire), oldest first.</summary>
        public LinkedList<Entry> Forgotten { get; } = new();

        public void Remember(Entry entry) => entry.ForgottenNode = Forgotten.AddLast(entry);

        public void Unlink(Entry entry)
        {
            if (entry.ForgottenNode is { } node)
            {
                Forgotten.Remove(node);
                entry.ForgottenNode = null;
            }
        }

        public void Add(Entry entry)
        {
            switch (entry.State)
            {
                case VmState.Pending: Pending.Add(entry); break;
                case VmState.Ready: Ready.Add(entry); break;
                case VmState.Running: Running.Add(entry); break;
                case VmState.Completed: Completed.Add(entry); break;
                default: break;
            }
        }

        public void Remove(Entry entry)
        {
            switch (entry.State)
            {
                case VmState.Pending: Pending.Remove(entry); break;
                case VmState.Ready: Ready.Remove(entry); break;
                case VmState.Running: Running.Remove(entry); break;
                case VmState.Completed: Completed.Remove(entry); break;
                default: break;
            }
        }
    }

    private sealed class Subscription(MemoryInventory owner, Action<string> callback) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._subscribers)
            {
                owner._subscribers.Remove(callback);
            }
        }
    }
}
