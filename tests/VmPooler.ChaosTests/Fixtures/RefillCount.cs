namespace VmPooler.ChaosTests.Fixtures;

/// <summary>
/// The VMs that became ready during a kill loop, counted from what the clients saw: every VM handed out during the loop
/// that was not ready when it began (a VM can only be handed out once ready), plus the VMs ready at its end that were
/// not ready at its start. Hand-outs are also split into thirds of the loop, and into the intervals between manager
/// restarts, to show that refills go on through the whole loop rather than only at its start.
/// </summary>
internal sealed record RefillCount(int Total, int[] HandedOutPerThird, int IntervalsWithRefills, int Intervals)
{
    public static RefillCount From(
        IReadOnlyDictionary<string, TimeSpan> handedOut,
        IReadOnlySet<string> readyAtStart,
        IReadOnlySet<string> readyAtEnd,
        TimeSpan loopStart,
        TimeSpan loopEnd,
        IReadOnlyList<TimeSpan> restarts)
    {
        var fresh = handedOut.Where(h => h.Value >= loopStart && h.Value <= loopEnd && !readyAtStart.Contains(h.Key)).ToList();
        var total = fresh.Select(f => f.Key).Union(readyAtEnd.Where(v => !readyAtStart.Contains(v)), StringComparer.Ordinal).Count();
        var third = (loopEnd - loopStart) / 3;
        var perThird = new int[3];
        foreach (var (_, at) in fresh)
        {
            perThird[Math.Clamp((int)((at - loopStart) / third), 0, 2)]++;
        }

        var bounds = restarts.Append(loopEnd).ToList();
        var withRefills = Enumerable.Range(0, bounds.Count - 1).Count(i => fresh.Any(f => f.Value >= bounds[i] && f.Value < bounds[i + 1]));
        return new RefillCount(total, perThird, withRefills, bounds.Count - 1);
    }

    public override string ToString()
        => $"{Total} VMs became ready during the loop (handed out per third: {string.Join(" / ", HandedOutPerThird)}); "
            + $"{IntervalsWithRefills} of {Intervals} intervals between restarts saw a refill handed out";
}
