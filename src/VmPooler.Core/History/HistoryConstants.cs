namespace VmPooler.Core.History;

/// <summary>How long the history keeps its points and how often the manager samples.</summary>
public static class HistoryConstants
{
    /// <summary>Minute points are kept for 24 hours (1440 points per pool).</summary>
    public static readonly TimeSpan MinuteRetention = TimeSpan.FromHours(24);

    /// <summary>Hour points are kept for 8 days (192 points per pool), so a week back from any hour is complete.</summary>
    public static readonly TimeSpan HourRetention = TimeSpan.FromDays(8);

    /// <summary>The manager samples every pool once a minute, on the minute.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromMinutes(1);

    /// <summary>The length of one bucket.</summary>
    public static TimeSpan BucketLength(HistoryResolution resolution)
        => resolution == HistoryResolution.Minute ? TimeSpan.FromMinutes(1) : TimeSpan.FromHours(1);

    /// <summary>How long points of a resolution are kept.</summary>
    public static TimeSpan Retention(HistoryResolution resolution)
        => resolution == HistoryResolution.Minute ? MinuteRetention : HourRetention;

    /// <summary>The bucket number of <paramref name="at"/>: whole minutes or hours since the Unix epoch.</summary>
    public static long Bucket(HistoryResolution resolution, DateTimeOffset at)
        => Math.DivRem(at.ToUnixTimeSeconds(), (long)BucketLength(resolution).TotalSeconds, out var rest) - (rest < 0 ? 1 : 0);

    /// <summary>When bucket <paramref name="bucket"/> starts.</summary>
    public static DateTimeOffset BucketStart(HistoryResolution resolution, long bucket)
        => DateTimeOffset.FromUnixTimeSeconds(bucket * (long)BucketLength(resolution).TotalSeconds);

    /// <summary>The oldest bucket still kept when the newest write is at <paramref name="now"/>.</summary>
    public static long OldestKept(HistoryResolution resolution, DateTimeOffset now)
        => Bucket(resolution, now - Retention(resolution)) + 1;
}
