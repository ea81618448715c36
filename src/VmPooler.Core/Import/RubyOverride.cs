using VmPooler.Core.Inventory;

namespace VmPooler.Core.Import;

/// <summary>One run-time pool setting of the Ruby vmpooler (size, template, clone target, or the prepared template).</summary>
public sealed record RubyOverride(PoolOverrideKind Kind, string Pool, string Value);
