namespace VmPooler.Core.Operations;

/// <summary>The wire names of <see cref="DeadLetterKind"/> (the queue names of upstream's <c>vmpooler__dlq__&lt;queue&gt;</c>).</summary>
public static class DeadLetterKinds
{
    public static IReadOnlyList<DeadLetterKind> All { get; } = [DeadLetterKind.Clone, DeadLetterKind.Pending, DeadLetterKind.Ready, DeadLetterKind.Purge];

    public static string Name(DeadLetterKind kind) => kind switch
    {
        DeadLetterKind.Clone => "clone",
        DeadLetterKind.Pending => "pending",
        DeadLetterKind.Ready => "ready",
        _ => "purge",
    };

    public static DeadLetterKind? Parse(string? name) => name switch
    {
        "clone" => DeadLetterKind.Clone,
        "pending" => DeadLetterKind.Pending,
        "ready" => DeadLetterKind.Ready,
        "purge" => DeadLetterKind.Purge,
        _ => null,
    };
}
