using System.Threading.Channels;

namespace VmPooler.Manager;

/// <summary>
/// A de-duplicating work queue of pool names, shaped like YARP's controller queue: a pool waiting in the queue is not
/// added twice, a pool being processed is not handed to a second worker, and events that arrive meanwhile coalesce
/// into one more pass. Delayed adds run on the injected <see cref="TimeProvider"/>.
/// Passes asked for by an event (<see cref="Enqueue"/>: a checkout, a return, a finished clone) go ahead of passes
/// that are merely due (<see cref="EnqueueAfter"/>'s timers), so a checkout's replacement clone never waits behind the
/// periodic passes of every other pool (with 200 pools whose ready checks fall due together, it waited seconds).
/// Event passes over one pool start at most once per <see cref="MinSpacing"/>: under a stream of checkouts every event
/// used to start another full pass as soon as the last one ended (hundreds per second per pool on Redis, each reading
/// every VM of the pool); events that arrive sooner coalesce into one pass at the end of the interval.
/// </summary>
internal sealed class PoolWorkQueue : IDisposable
{
    // One signal per entry written to either lane (under _gate); a reader takes a signal, then the first live entry of
    // the urgent lane, else of the due lane. Entries can go stale (a due pool promoted to urgent, handed out from
    // there), so there are at least as many signals as live entries; a reader that finds none waits again.
    private readonly Channel<bool> _signals = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Queue<string> _urgent = new();
    private readonly Queue<string> _due = new();
    private readonly HashSet<string> _inUrgent = new(StringComparer.Ordinal);

    /// <summary>How many urgent passes in a row may go ahead of a waiting due pass.</summary>
    private const int MaxUrgentStreak = 4;

    private int _urgentStreak;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private readonly HashSet<string> _processing = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ITimer Timer, DateTimeOffset Due)> _timers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastStart = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ITimer> _spacers = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private bool _disposed;

    public PoolWorkQueue(TimeProvider timeProvider)
    {
        _time = timeProvider;
    }

    /// <summary>
    /// The least time between the starts of two passes over one pool when the second is asked for by an event
    /// (<see cref="Enqueue"/>); zero (the default) for none. Due passes are not held back.
    /// </summary>
    public TimeSpan MinSpacing { get; set; }

    /// <summary>Queues a pass over <paramref name="pool"/> now (or once <see cref="MinSpacing"/> allows), ahead of passes that are merely due.</summary>
    public void Enqueue(string pool) => Add(pool, urgent: true);

    private void Add(string pool, bool urgent, bool spaced = false)
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

            if (urgent && !spaced && MinSpacing > TimeSpan.Zero && !_queued.Contains(pool))
            {
                if (_spacers.ContainsKey(pool))
                {
                    return; // a pass is already promised for the end of the interval
                }

                if (_lastStart.TryGetValue(pool, out var started) && _time.GetElapsedTime(started) is var since && since < MinSpacing)
                {
                    _spacers[pool] = OneShot(pool, MinSpacing - since, spacer: true);
                    return;
                }
            }

            var added = _queued.Add(pool);
            if (urgent ? _inUrgent.Add(pool) : added)
            {
                (urgent ? _urgent : _due).Enqueue(pool);
                _signals.Writer.TryWrite(true);
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

            var timer = OneShot(pool, delay, spacer: false);
            _timers[pool] = (timer, due);
        }
    }

    /// <summary>Waits for the next pool to process; the caller must call <see cref="Done"/> when finished with it.</summary>
    public async ValueTask<string> DequeueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _signals.Reader.ReadAsync(cancellationToken);
            lock (_gate)
            {
                // Urgent first, but never for ever: under a steady stream of events (clones finishing one after another
                // while many pools fill) every few hand-outs a due pass goes first, so no pool starves.
                if (_urgentStreak >= MaxUrgentStreak && TakeDue() is { } starved)
                {
                    _urgentStreak = 0;
                    return starved;
                }

                while (_urgent.TryDequeue(out var pool))
                {
                    _inUrgent.Remove(pool);
                    if (_queued.Remove(pool))
                    {
                        _processing.Add(pool);
                        _lastStart[pool] = _time.GetTimestamp();
                        _urgentStreak = _due.Count > 0 ? _urgentStreak + 1 : 0;
                        return pool;
                    }
                }

                _urgentStreak = 0;
                if (TakeDue() is { } due)
                {
                    return due;
                }
            }
        }
    }

    /// <summary>The first live entry of the due lane, marked as processing; null when there is none. Under <c>_gate</c>.</summary>
    private string? TakeDue()
    {
        while (_due.TryDequeue(out var pool))
        {
            if (_queued.Remove(pool))
            {
                _processing.Add(pool);
                _lastStart[pool] = _time.GetTimestamp();
                return pool;
            }
        }

        return null;
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

    /// <summary>A timer that fires once after <paramref name="delay"/>: a due pass, or the end of a spacing interval.</summary>
    private ITimer OneShot(string pool, TimeSpan delay, bool spacer)
        => _time.CreateTimer(
            static state =>
            {
                var (queue, name, isSpacer) = ((PoolWorkQueue, string, bool))state!;
                queue.Fire(name, isSpacer);
            },
            (this, pool, spacer),
            delay,
            Timeout.InfiniteTimeSpan);

    /// <summary>
    /// A timer fired: a due pass joins the due lane; the end of a spacing interval queues the event pass it held back
    /// (urgent, and not held back again).
    /// </summary>
    private void Fire(string pool, bool spacer)
    {
        ITimer? timer = null;
        lock (_gate)
        {
            if (spacer)
            {
                _spacers.Remove(pool, out timer);
            }
            else if (_timers.Remove(pool, out var entry))
            {
                timer = entry.Timer;
            }
        }

        timer?.Dispose();
        Add(pool, urgent: spacer, spaced: spacer);
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
            foreach (var timer in _spacers.Values)
            {
                timer.Dispose();
            }

            _spacers.Clear();
            _signals.Writer.TryComplete();
        }
    }
}
