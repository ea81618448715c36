using System.Collections.Concurrent;
using VmPooler.Core.Lifecycle;

namespace VmPooler.Manager.Execution;

/// <summary>Per-pool clone back-off: consecutive clone failures and the earliest time of the next clone.</summary>
internal sealed class CloneBackoffs(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset NotBefore)> _pools = new(StringComparer.Ordinal);

    /// <summary>Until when a pool's clones are held back, or null when they are not.</summary>
    public DateTimeOffset? Until(string pool)
        => _pools.TryGetValue(pool, out var state) && state.NotBefore > time.GetUtcNow() ? state.NotBefore : null;

    /// <summary>Counts a failed clone; returns the consecutive failures and the wait before the next clone.</summary>
    public (int Failures, TimeSpan Wait) Failed(string pool, PoolTimings timings)
    {
        var now = time.GetUtcNow();
        var state = _pools.AddOrUpdate(
            pool,
            _ => (1, now + Backoff.Delay(0, timings.LoopDelayMin, timings.LoopDelayMax)),
            (_, previous) => (previous.Failures + 1, now + Backoff.Delay(previous.Failures, timings.LoopDelayMin, timings.LoopDelayMax)));
        return (state.Failures, state.NotBefore - now);
    }

    /// <summary>A clone succeeded: the pool clones freely again.</summary>
    public void Succeeded(string pool) => _pools.TryRemove(pool, out _);
}
