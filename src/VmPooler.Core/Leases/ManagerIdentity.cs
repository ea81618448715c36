namespace VmPooler.Core.Leases;

/// <summary>
/// Who this pool manager is: a stable <paramref name="Id"/> (<c>--manager-id</c>; by default the host name plus the
/// configuration path, so a restarted manager resumes its own leases at once) and the labels a pool must carry to be
/// managed here (<c>--pools-label key=value</c>, repeatable; empty: every pool).
/// </summary>
public sealed record ManagerIdentity(string Id, IReadOnlyDictionary<string, string> PoolSelector)
{
    /// <summary>True when <paramref name="poolLabels"/> carry every label of <see cref="PoolSelector"/>.</summary>
    public bool Accepts(IReadOnlyDictionary<string, string> poolLabels)
        => PoolSelector.All(s => poolLabels.TryGetValue(s.Key, out var value) && string.Equals(value, s.Value, StringComparison.Ordinal));
}
