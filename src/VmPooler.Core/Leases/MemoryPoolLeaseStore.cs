namespace VmPooler.Core.Leases;

/// <summary>
/// The in-process lease store of the embedded inventory: every manager of the process shares this one instance. One
/// lock guards leases and registrations; a lease or a registration lapses when the injected clock passes its expiry,
/// so tests drive expiry by moving the clock. Change notifications run on the caller's thread, outside the lock.
/// </summary>
public sealed class MemoryPoolLeaseStore(TimeProvider timeProvider) : IPoolLeaseStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (string Owner, DateTimeOffset Expires)> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ManagerRegistration Registration, DateTimeOffset Expires)> _managers = new(StringComparer.Ordinal);
    private readonly List<Action> _subscribers = [];

    public Task<IReadOnlySet<string>> AcquireAsync(string managerId, IReadOnlyCollection<string> pools, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        PoolLeaseArguments.CheckManagerId(managerId);
        PoolLeaseArguments.CheckTimeToLive(timeToLive);
        var held = new HashSet<string>(StringComparer.Ordinal);
        lock (_gate)
        {
            var now = timeProvider.GetUtcNow();
            foreach (var pool in pools)
            {
                if (!_leases.TryGetValue(pool, out var lease) || lease.Expires <= now || lease.Owner == managerId)
                {
                    _leases[pool] = (managerId, now + timeToLive);
                    held.Add(pool);
                }
            }
        }

        return Task.FromResult<IReadOnlySet<string>>(held);
    }

    public Task ReleaseAsync(string managerId, IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
    {
        var released = false;
        lock (_gate)
        {
            var now = timeProvider.GetUtcNow();
            foreach (var pool in pools)
            {
                if (_leases.TryGetValue(pool, out var lease) && lease.Owner == managerId)
                {
                    _leases.Remove(pool);
                    released |= lease.Expires > now;
                }
            }
        }

        if (released)
        {
            Notify();
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, string>> GetOwnersAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        lock (_gate)
        {
            var now = timeProvider.GetUtcNow();
            foreach (var pool in pools)
            {
                if (_leases.TryGetValue(pool, out var lease) && lease.Expires > now)
                {
                    owners[pool] = lease.Owner;
                }
            }
        }

        return Task.FromResult<IReadOnlyDictionary<string, string>>(owners);
    }

    /// <summary>Stores a copy of <paramref name="registration"/> with <see cref="ManagerRegistration.Renewed"/> set to now (the injected clock).</summary>
    public Task RegisterAsync(ManagerRegistration registration, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        PoolLeaseArguments.CheckManagerId(registration.Id);
        PoolLeaseArguments.CheckTimeToLive(timeToLive);
        bool first;
        lock (_gate)
        {
            var now = timeProvider.GetUtcNow();
            first = !_managers.TryGetValue(registration.Id, out var existing) || existing.Expires <= now;
            var copy = new ManagerRegistration(
                registration.Id,
                [.. registration.Pools],
                new Dictionary<string, string>(registration.Labels, StringComparer.Ordinal),
                now);
            _managers[registration.Id] = (copy, now + timeToLive);
        }

        if (first)
        {
            Notify();
        }

        return Task.CompletedTask;
    }

    public Task UnregisterAsync(string managerId, CancellationToken cancellationToken)
    {
        bool removed;
        lock (_gate)
        {
            removed = _managers.Remove(managerId, out var existing) && existing.Expires > timeProvider.GetUtcNow();
        }

        if (removed)
        {
            Notify();
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ManagerRegistration>> GetManagersAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = timeProvider.GetUtcNow();
            foreach (var id in _managers.Where(m => m.Value.Expires <= now).Select(m => m.Key).ToList())
            {
                _managers.Remove(id);
            }

            IReadOnlyList<ManagerRegistration> live = [.. _managers.Values.Select(m => m.Registration).OrderBy(r => r.Id, StringComparer.Ordinal)];
            return Task.FromResult(live);
        }
    }

    public IDisposable SubscribeChanges(Action onChange)
    {
        lock (_gate)
        {
            _subscribers.Add(onChange);
        }

        return new Unsubscriber(this, onChange);
    }

    private void Notify()
    {
        Action[] subscribers;
        lock (_gate)
        {
            subscribers = [.. _subscribers];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber();
        }
    }

    private sealed class Unsubscriber(MemoryPoolLeaseStore store, Action onChange) : IDisposable
    {
        public void Dispose()
        {
            lock (store._gate)
            {
                store._subscribers.Remove(onChange);
            }
        }
    }
}
