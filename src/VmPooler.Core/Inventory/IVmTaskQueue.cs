namespace VmPooler.Core.Inventory;

/// <summary>
/// The queue of work the API asks of the manager for checked-out VMs (spec §4.9): add a disk, take a snapshot, revert to
/// one. First in, first out, so a snapshot queued before a revert is taken first.
/// </summary>
public interface IVmTaskQueue
{
    Task EnqueueAsync(VmTask task, CancellationToken cancellationToken);

    /// <summary>Takes up to <paramref name="max"/> tasks, oldest first (empty when there are none).</summary>
    Task<IReadOnlyList<VmTask>> DequeueAsync(int max, CancellationToken cancellationToken);

    /// <summary>How many tasks wait (the <c>queue.tasks</c> gauge); null when the store cannot tell.</summary>
    Task<long?> LengthAsync(CancellationToken cancellationToken) => Task.FromResult<long?>(null);
}

/// <summary>Which change a <see cref="VmTask"/> asks for.</summary>
public enum VmTaskKind
{
    /// <summary>Add a disk; the argument is its size in GB.</summary>
    Disk,

    /// <summary>Take a snapshot; the argument is its name.</summary>
    Snapshot,

    /// <summary>Revert to a snapshot; the argument is its name.</summary>
    Revert,
}

/// <summary>One queued change of one VM.</summary>
public sealed record VmTask(VmTaskKind Kind, string Vm, string Argument)
{
    private const char Separator = '|';

    /// <summary>The task as one string (kind|vm|argument) for stores that keep strings.</summary>
    public string Serialize() => $"{Kind.ToString().ToLowerInvariant()}{Separator}{Vm}{Separator}{Argument}";

    /// <summary>Reads <see cref="Serialize"/>'s form; null when it is not one.</summary>
    public static VmTask? Parse(string? text)
    {
        var parts = text?.Split(Separator, 3);
        return parts is { Length: 3 } && Enum.TryParse<VmTaskKind>(parts[0], ignoreCase: true, out var kind) && parts[1].Length > 0
            ? new VmTask(kind, parts[1], parts[2])
            : null;
    }
}

/// <summary>The in-memory task queue (one process).</summary>
public sealed class MemoryVmTaskQueue : IVmTaskQueue
{
    private readonly Lock _lock = new();
    private readonly Queue<VmTask> _tasks = new();

    public Task EnqueueAsync(VmTask task, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _tasks.Enqueue(task);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<VmTask>> DequeueAsync(int max, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var taken = new List<VmTask>();
            while (taken.Count < max && _tasks.TryDequeue(out var task))
            {
                taken.Add(task);
            }

            return Task.FromResult<IReadOnlyList<VmTask>>(taken);
        }
    }

    public Task<long?> LengthAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<long?>(_tasks.Count);
        }
    }
}
