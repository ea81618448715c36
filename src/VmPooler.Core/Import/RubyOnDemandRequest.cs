using VmPooler.Core.OnDemand;

namespace VmPooler.Core.Import;

/// <summary>
/// An on-demand request the Ruby vmpooler had not finished: its entries, when it was made, its owner (token in clear, as
/// the Ruby hash holds it) and the VMs delivered so far per entry key (<c>requested:pool</c>).
/// </summary>
public sealed record RubyOnDemandRequest(
    string Id,
    IReadOnlyList<OnDemandEntry> Entries,
    DateTimeOffset Created,
    string? Token,
    string? User,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Delivered);
