using VmPooler.Core.Configuration;

namespace VmPooler.Manager.Execution;

/// <summary>
/// Hands out the clone slots (<c>task_limit</c>) fairly across pools: each pool states how many clones it wants, and
/// free slots go round-robin, one slot per pool in turn, so no pool starves while another fills. A pool's demand is
/// what it lacks minus the clones already started for it that its last count could not see yet, so a pool never
/// asks twice for the same VM.
/// </summary>
internal sealed class CloneDispatcher(int slots, Func<string, bool> holdsBack)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (PoolOptions Pool, int Count)> _demand = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _unreserved = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _reserved = new(StringComparer.Ordinal);
    private readonly Queue<string> _turns = new();
    private readonly int _slots = slots;
    private int _free = slots;

    /// <summary>Clone slots in use.</summary>
    public int InUse
    {
        get
        {
            lock (_gate)
            {
                return _slots - _free;
            }
        }
    }

    /// <summary>A mark to take before reading a pool's counts; pass it to <see cref="Want"/> with what the counts said.</summary>
    public long Mark(string pool)
    {
        lock (_gate)
        {
            return _reserved.GetValueOrDefault(pool);
        }
    }

    /// <summary>
    /// Sets how many clones <paramref name="pool"/> lacks, by counts read after <paramref name="mark"/>; returns the
    /// batches that free slots allow now (pool → number of clones to start).
    /// </summary>
    public List<(PoolOptions Pool, int Count)> Want(PoolOptions pool, int lacking, long mark)
    {
        lock (_gate)
        {
            var seenLater = _reserved.GetValueOrDefault(pool.Name) - mark;
            var count = lacking - _unreserved.GetValueOrDefault(pool.Name) - (int)seenLater;
            if (count <= 0)
            {
                _demand.Remove(pool.Name);
            }
            else
            {
                if (!_demand.ContainsKey(pool.Name))
                {
                    _turns.Enqueue(pool.Name);
                }

                _demand[pool.Name] = (pool, count);
            }

            return TakeLocked();
        }
    }

    /// <summary>Forgets what a pool wants (it is backing off, or no longer owned here).</summary>
    public void Drop(string pool)
    {
        lock (_gate)
        {
            _demand.Remove(pool);
        }
    }

    /// <summary>A started clone's name is registered as pending: the pool's counts show it from now on.</summary>
    public void Reserved(string pool, bool registered)
    {
        lock (_gate)
        {
            _unreserved[pool] = Math.Max(0, _unreserved.GetValueOrDefault(pool) - 1);
            if (registered)
            {
                _reserved[pool] = _reserved.GetValueOrDefault(pool) + 1;
            }
        }
    }

    /// <summary>A clone finished (either way): its slot goes to the next pool in turn. Returns the batches to start.</summary>
    public List<(PoolOptions Pool, int Count)> Release()
    {
        lock (_gate)
        {
            _free++;
            return TakeLocked();
        }
    }

    private List<(PoolOptions Pool, int Count)> TakeLocked()
    {
        var batches = new Dictionary<string, (PoolOptions Pool, int Count)>(StringComparer.Ordinal);
        while (_free > 0 && _turns.TryDequeue(out var name))
        {
            if (!_demand.TryGetValue(name, out var want) || holdsBack(name))
            {
                _demand.Remove(name);
                continue;
            }

            _free--;
            _unreserved[name] = _unreserved.GetValueOrDefault(name) + 1;
            batches[name] = (want.Pool, batches.GetValueOrDefault(name).Count + 1);
            if (want.Count > 1)
            {
                _demand[name] = (want.Pool, want.Count - 1);
                _turns.Enqueue(name);
            }
            else
            {
                _demand.Remove(name);
            }
        }

        return [.. batches.Values];
    }
}
