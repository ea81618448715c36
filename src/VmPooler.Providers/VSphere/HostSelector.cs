namespace VmPooler.Providers.VSphere;

/// <summary>
/// Spreads clones over the healthy hosts of a clone target, as the original's <c>manage_host_selection</c> does: hosts
/// in maintenance mode, not connected, not green, or above <c>utilization_limit</c> in CPU or memory are skipped; of
/// the rest, those at or below the average utilisation are used in turn, least used first. A ranking is reused for
/// <c>host_selection_max_age</c>, then read again. Unlike the original, a host reporting 0 % (no statistics yet, as in
/// a simulator) is not excluded.
/// </summary>
internal sealed class HostSelector(int utilizationLimit, TimeSpan maxAge, TimeProvider timeProvider)
{
    private readonly Dictionary<string, Ranking> _rankings = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The hosts that take clones, least used first (empty when none qualifies).</summary>
    public static IReadOnlyList<HostUsage> Rank(IEnumerable<HostUsage> hosts, int utilizationLimit)
    {
        var healthy = hosts.Where(h => h.Exclusion(utilizationLimit) is null).ToList();
        if (healthy.Count == 0)
        {
            return [];
        }

        var average = healthy.Average(h => h.Utilization);
        return [.. healthy.Where(h => h.Utilization <= average + 1e-9).OrderBy(h => h.Utilization).ThenBy(h => h.Name, StringComparer.Ordinal)];
    }

    /// <summary>Whether the ranking of <paramref name="target"/> must be (re)read before <see cref="Next"/>.</summary>
    public bool NeedsRanking(string target)
    {
        lock (_gate)
        {
            return !_rankings.TryGetValue(target, out var ranking) || timeProvider.GetUtcNow() - ranking.At > maxAge;
        }
    }

    /// <summary>Stores a fresh ranking of <paramref name="target"/>'s hosts.</summary>
    public void Update(string target, IEnumerable<HostUsage> hosts)
    {
        var ranked = Rank(hosts, utilizationLimit);
        lock (_gate)
        {
            _rankings[target] = new Ranking([.. ranked], timeProvider.GetUtcNow());
        }
    }

    /// <summary>The host for the next clone onto <paramref name="target"/>; throws when no host qualifies.</summary>
    public HostUsage Next(string target)
    {
        lock (_gate)
        {
            if (!_rankings.TryGetValue(target, out var ranking) || ranking.Hosts.Count == 0)
            {
                throw new VSphereException(
                    $"no host of '{target}' can take a clone: every host is in maintenance mode, not connected, not green, or above {utilizationLimit}% CPU or memory");
            }

            var host = ranking.Hosts[ranking.NextIndex % ranking.Hosts.Count];
            ranking.NextIndex++;
            return host;
        }
    }

    private sealed class Ranking(List<HostUsage> hosts, DateTimeOffset at)
    {
        public List<HostUsage> Hosts { get; } = hosts;
        public DateTimeOffset At { get; } = at;
        public int NextIndex { get; set; }
    }
}
