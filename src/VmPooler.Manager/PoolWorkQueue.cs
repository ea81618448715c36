using System.Threading.Channels;

namespace VmPooler.Manager;

/// <summary>
/// A de-duplicating work queue of pool names, shaped like YARP's controller queue: a pool waiting in the queue is not
/// added twice, a pool being processed is not handed to a second worker, and events that arrive meanwhile coalesce
/// into one more pass. Delayed adds run on the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class PoolWorkQueue : IDisposable
{
    private readonly Channel<string> _channel = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Lock _gate = new();
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private readonly HashSet<string> _processing = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ITimer Timer, DateTimeOffset Due)> _timers = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private bool _disposed;

    public PoolWorkQueue(TimeProvider timeProvider)
    {
        _time = timeProvider;
    }

    /// <summary>Queues a pass over <paramref name="pool"/> now.</summary>
    public void Enqueue(string pool)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            if (_processing.Contains(pool))
            {
                _dirty.Add(pool);
                return;
            }

            if (_queued.Add(pool))
            {
                _channel.Writer.TryWrite(pool);
            }
        }
    }

    /// <summary>Queues a pass over <paramref name="pool"/> after <paramref name="delay"/>, unless an earlier one is already scheduled.</summary>
    public void EnqueueAfter(string pool, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Enqueue(pool);
            return;
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var due = _time.GetUtcNow() + delay;
            if (_timers.TryGetValue(pool, out var existing))
            {
                if (existing.Due <= due)
                {
                    return;
                }

                existing.Timer.Dispose();
            }

            var timer = _time.CreateTimer(
                static state =>
                {
                    var (queue, name) = ((PoolWorkQueue, string))state!;
                    queue.Fire(name);
                },
                (this, pool),
                delay,
                Timeout.InfiniteTimeSpan);
            _timers[pool] = (timer, due);
        }
    }

    /// <summary>Waits for the next pool to process; the caller must call <see cref="Done"/> when finished with it.</summary>
    public async ValueTask<string> DequeueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var pool = await _channel.Reader.ReadAsync(cancellationToken);
            lock (_gate)
            {
                if (_queued.Remove(pool))
                {
                    _processing.Add(pool);
                    return pool;
                }
            }
        }
    }

    /// <summary>Marks a pass finished; if events arrived during it, the pool is queued again at once.</summary>
    public void Done(string pool)
    {
        bool again;
        lock (_gate)
        {
            _processing.Remove(pool);
            again = _dirty.Remove(pool);
        }

        if (again)
        {
            Enqueue(pool);
        }
    }

    private void Fire(string pool)
    {
        lock (_gate)
        {
            if (_timers.Remove(pool, out var entry))
            {
                entry.Timer.Dispose();
            }
        }

        Enqueue(pool);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var (timer, _) in _timers.Values)
            {
                timer.Dispose();
            }

            _timers.Clear();
            _channel.Writer.TryComplete();
        }
    }
}
