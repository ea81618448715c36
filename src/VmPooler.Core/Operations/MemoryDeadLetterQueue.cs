using VmPooler.Core.Configuration;

namespace VmPooler.Core.Operations;

/// <summary>The dead-letter queue of the embedded inventory: per pool and kind, oldest first, bounded and expiring.</summary>
public sealed class MemoryDeadLetterQueue(OperationsOptions options, TimeProvider timeProvider) : IDeadLetterQueue
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Pool, DeadLetterKind Kind), Queue<DeadLetterEntry>> _queues = [];

    public bool Enabled => options.DlqEnabled;

    public Task AddAsync(DeadLetterEntry entry, CancellationToken cancellationToken)
    {
        if (!options.DlqEnabled)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            var key = (entry.Pool, entry.Kind);
            if (!_queues.TryGetValue(key, out var queue))
            {
                _queues[key] = queue = new Queue<DeadLetterEntry>();
            }

            queue.Enqueue(entry.Bounded());
            while (queue.Count > options.DlqMaxEntries)
            {
                queue.Dequeue();
            }

            Expire(queue);
        }

        return Task.CompletedTask;
    }

    public Task<DeadLetterPage> ListAsync(IReadOnlyCollection<string> pools, int offset, int limit, CancellationToken cancellationToken)
    {
        var all = Snapshot(pools);
        all.Sort((a, b) => b.Time.CompareTo(a.Time));
        return Task.FromResult(new DeadLetterPage([.. all.Skip(offset).Take(limit)], all.Count));
    }

    public Task<DeadLetterEntry?> FindAsync(string pool, string vm, CancellationToken cancellationToken)
        => Task.FromResult(Snapshot([pool]).Where(e => e.Vm == vm).MaxBy(e => e.Time));

    public Task<IReadOnlyDictionary<string, int>> CountAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
    {
        var counts = pools.ToDictionary(p => p, _ => 0, StringComparer.Ordinal);
        foreach (var entry in Snapshot(pools))
        {
            counts[entry.Pool]++;
        }

        return Task.FromResult<IReadOnlyDictionary<string, int>>(counts);
    }

    private List<DeadLetterEntry> Snapshot(IReadOnlyCollection<string> pools)
    {
        var wanted = pools.ToHashSet(StringComparer.Ordinal);
        var result = new List<DeadLetterEntry>();
        lock (_gate)
        {
            foreach (var ((pool, _), queue) in _queues)
            {
                if (wanted.Contains(pool))
                {
                    Expire(queue);
                    result.AddRange(queue);
                }
            }
        }

        return result;
    }

    private void Expire(Queue<DeadLetterEntry> queue)
    {
        var cutoff = timeProvider.GetUtcNow() - options.DlqTtl;
        while (queue.TryPeek(out var oldest) && oldest.Time < cutoff)
        {
            queue.Dequeue();
        }
    }
}
