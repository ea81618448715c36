namespace VmPooler.Core.Inventory;

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

/// <summary>One queued change of one VM of one pool.</summary>
public sealed record VmTask(VmTaskKind Kind, string Pool, string Vm, string Argument)
{
    private const char Separator = '|';

    /// <summary>The task as one string (kind|vm|argument; the pool is the queue's) for stores that keep strings.</summary>
    public string Serialize() => $"{Kind.ToString().ToLowerInvariant()}{Separator}{Vm}{Separator}{Argument}";

    /// <summary>Reads <see cref="Serialize"/>'s form, taken from <paramref name="pool"/>'s queue; null when it is not one.</summary>
    public static VmTask? Parse(string? text, string pool)
    {
        var parts = text?.Split(Separator, 3);
        return parts is { Length: 3 } && Enum.TryParse<VmTaskKind>(parts[0], ignoreCase: true, out var kind) && parts[1].Length > 0
            ? new VmTask(kind, pool, parts[1], parts[2])
            : null;
    }
}
