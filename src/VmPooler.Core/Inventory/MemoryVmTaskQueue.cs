namespace VmPooler.Core.Inventory;

/// <summary>The in-memory task queue (one process): a queue per pool.</summary>
public sealed class MemoryVmTaskQueue : IVmTaskQueue
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Queue<VmTask>> _pools = new(StringComparer.Ordinal);

    public Task EnqueueAsync(VmTask task, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(task.Pool);
        lock (_lock)
        {
            if (!_pools.TryGetValue(task.Pool, out var queue))
            {
                _pools[task.Pool] = queue = new Queue<VmTask>();
            }

            queue.Enqueue(task);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<VmTask>> DequeueAsync(Func<string, bool> owned, int max, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var taken = new List<VmTask>();
            foreach (var (pool, queue) in _pools)
            {
                if (taken.Count == max)
                {
                    break;
                }

                if (!owned(pool))
                {
                    continue;
                }

                while (taken.Count < max && queue.TryDequeue(out var task))
                {
                    taken.Add(task);
                }

                if (queue.Count == 0)
                {
                    _pools.Remove(pool);
                }
            }

            return Task.FromResult<IReadOnlyList<VmTask>>(taken);
        }
    }

    public Task<long?> LengthAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<long?>(_pools.Values.Sum(q => q.Count));
        }
    }
}
