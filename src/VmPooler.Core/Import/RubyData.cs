namespace VmPooler.Core.Import;

/// <summary>
/// Everything read from a Ruby vmpooler's Redis (spec §3), already parsed into typed facts: what
/// <see cref="RubyImporter"/> writes into our stores. The reader decides only what the Ruby layout says (a malformed hash,
/// an unparseable time); whether a fact fits our configuration is the importer's decision.
/// </summary>
public sealed record RubyData
{
    public IReadOnlyList<RubyToken> Tokens { get; init; } = [];

    /// <summary>Every VM in exactly one of the pending/ready/running/completed sets, with its metadata in our field form.</summary>
    public IReadOnlyList<RubyVm> Vms { get; init; } = [];

    /// <summary>Run-time pool overrides (<c>vmpooler__config__*</c>) and prepared templates.</summary>
    public IReadOnlyList<RubyOverride> Overrides { get; init; } = [];

    /// <summary>Pools whose reset (<c>/poolreset</c>) the Ruby manager had not yet carried out.</summary>
    public IReadOnlyList<string> PoolResets { get; init; } = [];

    /// <summary>The per-day clone and boot durations behind <c>/summary</c>.</summary>
    public IReadOnlyList<RubyDurations> Durations { get; init; } = [];

    /// <summary>The per-day tag index behind <c>/summary</c>.</summary>
    public IReadOnlyList<RubyTagDay> Tags { get; init; } = [];

    /// <summary>When each pool last had a VM become ready (<c>vmpooler__lastboot</c>).</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> LastBoot { get; init; } = new Dictionary<string, DateTimeOffset>();

    /// <summary>On-demand requests still in progress.</summary>
    public IReadOnlyList<RubyOnDemandRequest> OnDemand { get; init; } = [];

    /// <summary>Records the reader could not read, each with its reason.</summary>
    public IReadOnlyList<ImportSkip> Skips { get; init; } = [];

    /// <summary>Keys deliberately not carried over (the Ruby manager's own bookkeeping), counted per reason.</summary>
    public IReadOnlyDictionary<string, int> Ignored { get; init; } = new Dictionary<string, int>();
}
