using System.Globalization;
using StackExchange.Redis;
using VmPooler.Core.History;

namespace VmPooler.Redis;

/// <summary>
/// The dashboard history in Redis: per pool and resolution a hash of bucket fields and a sorted set indexing its buckets
/// (<c>&lt;prefix&gt;:{&lt;pool&gt;}:history:minute</c> and <c>…:history:minute:at</c>, likewise <c>hour</c>). All keys of
/// one pool carry the pool's hash tag, so each write is one script on one slot. Every write trims the buckets that fell
/// out of retention and sets the keys to expire after it, so the history stays bounded even for removed pools.
/// </summary>
internal sealed class RedisHistoryStore(RedisConnection connection, TimeProvider timeProvider) : IHistoryStore
{
    private static readonly string RecordScript = RedisConnection.LoadScript("history_record", withPrelude: false);
    private static readonly string ReadScript = RedisConnection.LoadScript("history_read", withPrelude: false);

    private IDatabase Db => connection.Database;

    /// <summary>The hash of one pool's points at one resolution.</summary>
    public RedisKey Points(string pool, HistoryResolution resolution)
        => $"{connection.Keys.Prefix}:{{{pool}}}:history:{Name(resolution)}";

    /// <summary>The sorted set of the buckets in <see cref="Points"/>, scored by bucket number.</summary>
    public RedisKey Index(string pool, HistoryResolution resolution) => $"{Points(pool, resolution)}:at";

    public Task RecordSamplesAsync(IReadOnlyCollection<PoolSample> samples, DateTimeOffset at, CancellationToken cancellationToken)
        => samples.Count == 0
            ? Task.CompletedTask
            : connection.GuardAsync(
                () => Task.WhenAll(samples.Select(s => RecordAsync(s.Pool, at, "sample", s.Ready, s.Pending, s.Running))),
                timeProvider,
                cancellationToken);

    public Task RecordCheckoutsAsync(string pool, int count, DateTimeOffset at, CancellationToken cancellationToken)
        => count == 0
            ? Task.CompletedTask
            : connection.GuardAsync(() => RecordAsync(pool, at, "checkout", count), timeProvider, cancellationToken);

    public Task<IReadOnlyDictionary<string, IReadOnlyList<HistoryPoint>>> GetAsync(
        IReadOnlyCollection<string> pools,
        HistoryResolution resolution,
        DateTimeOffset from,
        DateTimeOffset to,
        CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var length = HistoryConstants.BucketLength(resolution);
                // The first bucket that starts at or after 'from', and the bucket 'to' falls in.
                var first = HistoryConstants.Bucket(resolution, from + length - TimeSpan.FromTicks(1));
                var last = HistoryConstants.Bucket(resolution, to);
                var names = pools.Distinct(StringComparer.Ordinal).ToList();
                var reads = await Task.WhenAll(names.Select(pool => Db.ScriptEvaluateAsync(
                    ReadScript,
                    [Points(pool, resolution), Index(pool, resolution)],
                    [first, last])));
                var result = new Dictionary<string, IReadOnlyList<HistoryPoint>>(StringComparer.Ordinal);
                for (var i = 0; i < names.Count; i++)
                {
                    var values = (RedisResult[])reads[i]!;
                    var points = new List<HistoryPoint>(values.Length / 6);
                    for (var j = 0; j + 5 < values.Length; j += 6)
                    {
                        var bucket = long.Parse((string)values[j]!, CultureInfo.InvariantCulture);
                        var samples = Number(values[j + 4]);
                        var at = HistoryConstants.BucketStart(resolution, bucket);
                        points.Add(samples > 0
                            ? new HistoryPoint(at, Number(values[j + 1]) / (double)samples, Number(values[j + 2]) / (double)samples, Number(values[j + 3]) / (double)samples, Number(values[j + 5]))
                            : new HistoryPoint(at, null, null, null, Number(values[j + 5])));
                    }

                    if (points.Count > 0)
                    {
                        result[names[i]] = points;
                    }
                }

                return (IReadOnlyDictionary<string, IReadOnlyList<HistoryPoint>>)result;
            },
            timeProvider,
            cancellationToken);

    private Task<RedisResult> RecordAsync(string pool, DateTimeOffset at, string mode, params int[] values)
    {
        RedisValue[] args =
        [
            mode,
            HistoryConstants.Bucket(HistoryResolution.Minute, at),
            HistoryConstants.Bucket(HistoryResolution.Hour, at),
            HistoryConstants.OldestKept(HistoryResolution.Minute, at),
            HistoryConstants.OldestKept(HistoryResolution.Hour, at),
            (long)HistoryConstants.MinuteRetention.TotalMilliseconds,
            (long)HistoryConstants.HourRetention.TotalMilliseconds,
            .. values.Select(v => (RedisValue)v),
        ];
        return Db.ScriptEvaluateAsync(
            RecordScript,
            [Points(pool, HistoryResolution.Minute), Index(pool, HistoryResolution.Minute), Points(pool, HistoryResolution.Hour), Index(pool, HistoryResolution.Hour)],
            args);
    }

    private static long Number(RedisResult value) => value.IsNull ? 0 : long.Parse((string)value!, CultureInfo.InvariantCulture);

    private static string Name(HistoryResolution resolution) => resolution == HistoryResolution.Minute ? "minute" : "hour";
}
