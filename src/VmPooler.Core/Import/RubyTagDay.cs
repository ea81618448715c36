namespace VmPooler.Core.Import;

/// <summary>One day's tag index (<c>vmpooler__tag__&lt;day&gt;</c>): <c>vm:tag</c> → value.</summary>
public sealed record RubyTagDay(DateOnly Day, IReadOnlyDictionary<string, string> Entries);
