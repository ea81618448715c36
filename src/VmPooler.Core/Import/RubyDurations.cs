using VmPooler.Core.Inventory;

namespace VmPooler.Core.Import;

/// <summary>One day's clone or boot durations (<c>vmpooler__clone__&lt;day&gt;</c>, <c>vmpooler__boot__&lt;day&gt;</c>): <c>pool:vm</c> → seconds.</summary>
public sealed record RubyDurations(DurationKind Kind, DateOnly Day, IReadOnlyDictionary<string, double> Entries);
