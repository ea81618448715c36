namespace VmPooler.Manager.Execution;

/// <summary>
/// The manager's one back-off rule: after <c>n</c> consecutive failures wait <c>min × 2^(n−1)</c>, at most
/// <c>max</c> (no wait after none). Failed passes count every failure; clones forgive the first one (one failure in
/// many is normal), so a pool's clones wait <see cref="Delay"/> of <c>failures − 1</c>.
/// </summary>
internal static class Backoff
{
    public static TimeSpan Delay(int failures, TimeSpan min, TimeSpan max)
    {
        if (failures <= 0)
        {
            return TimeSpan.Zero;
        }

        var ticks = min.Ticks * Math.Pow(2, Math.Min(failures - 1, 20));
        return TimeSpan.FromTicks((long)Math.Min(ticks, max.Ticks));
    }
}
