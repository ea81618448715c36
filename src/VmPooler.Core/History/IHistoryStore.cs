namespace VmPooler.Core.History;

/// <summary>
/// The dashboard's built-in history (instead of the original's Graphite): per pool, the ready/pending/running counts the
/// manager samples once a minute and the checkouts the API counts, kept at two resolutions — one point per minute for
/// <see cref="HistoryConstants.MinuteRetention"/> and one per hour (the average of that hour's samples, the sum of its
/// checkouts) for <see cref="HistoryConstants.HourRetention"/>. Every write trims what has fallen out of retention, so
/// the store stays bounded.
/// </summary>
public interface IHistoryStore
{
    /// <summary>
    /// Records one sample per pool taken at <paramref name="at"/>: it replaces the minute point of that minute (a second
    /// sample in one minute wins) and is averaged into the hour point.
    /// </summary>
    Task RecordSamplesAsync(IReadOnlyCollection<PoolSample> samples, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="count"/> checkouts of <paramref name="pool"/> to the minute and hour of <paramref name="at"/>.</summary>
    Task RecordCheckoutsAsync(string pool, int count, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// The points of each pool whose bucket starts in [<paramref name="from"/>, <paramref name="to"/>], oldest first; a
    /// bucket with nothing recorded is left out, and so is a pool with no points. Buckets are UTC minutes or hours.
    /// </summary>
    Task<IReadOnlyDictionary<string, IReadOnlyList<HistoryPoint>>> GetAsync(
        IReadOnlyCollection<string> pools,
        HistoryResolution resolution,
        DateTimeOffset from,
        DateTimeOffset to,
        CancellationToken cancellationToken);
}

/// <summary>The two resolutions of the history.</summary>
public enum HistoryResolution
{
    Minute,
    Hour,
}

/// <summary>One pool's VM counts at one instant.</summary>
public readonly record struct PoolSample(string Pool, int Ready, int Pending, int Running);

/// <summary>
/// One bucket of one pool: when it starts, the sampled counts (the hour's average for hour points; null when the bucket
/// only has checkouts), and the number of checkouts in it.
/// </summary>
public sealed record HistoryPoint(DateTimeOffset At, double? Ready, double? Pending, double? Running, long Checkouts);
