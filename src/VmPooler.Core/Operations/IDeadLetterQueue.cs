namespace VmPooler.Core.Operations;

/// <summary>
/// The dead-letter queue of failed VMs (spec §3.4, §4.10; issue 14). Bounded per pool and kind to
/// <c>dlq_max_entries</c> (the newest are kept) and expiring after <c>dlq_ttl</c>. When <c>dlq_enabled</c> is off,
/// <see cref="AddAsync"/> records nothing.
/// </summary>
public interface IDeadLetterQueue
{
    /// <summary>Whether entries are recorded (<c>dlq_enabled</c>).</summary>
    bool Enabled { get; }

    /// <summary>Records a failed VM (nothing when disabled).</summary>
    Task AddAsync(DeadLetterEntry entry, CancellationToken cancellationToken);

    /// <summary>The entries of <paramref name="pools"/>, newest first, <paramref name="offset"/> and <paramref name="limit"/> applied.</summary>
    Task<DeadLetterPage> ListAsync(IReadOnlyCollection<string> pools, int offset, int limit, CancellationToken cancellationToken);

    /// <summary>The newest entry of <paramref name="vm"/> in <paramref name="pool"/>, or null.</summary>
    Task<DeadLetterEntry?> FindAsync(string pool, string vm, CancellationToken cancellationToken);

    /// <summary>How many entries each pool holds (all kinds).</summary>
    Task<IReadOnlyDictionary<string, int>> CountAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken);
}
