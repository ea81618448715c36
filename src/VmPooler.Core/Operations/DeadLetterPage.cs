namespace VmPooler.Core.Operations;

/// <summary>A page of dead-letter entries, newest first, and how many there are in all.</summary>
public sealed record DeadLetterPage(IReadOnlyList<DeadLetterEntry> Entries, int Total);
