namespace VmPooler.Core.Leases;

/// <summary>
/// A live pool manager as the registry shows it (<c>GET /api/v3/managers</c>): its id, the pools it owns, the labels
/// that limit which pools it may own (empty: any pool), and when it last renewed its registration.
/// </summary>
public sealed record ManagerRegistration(
    string Id,
    IReadOnlyList<string> Pools,
    IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset Renewed);
