namespace VmPooler.Core.History;

/// <summary>The history in process memory (the embedded inventory's companion), trimmed on every write.</summary>
public sealed class MemoryHistoryStore : IHistoryStore
{
    private static readonly HistoryResolution[] Resolutions = [HistoryResolution.Minute, HistoryResolution.Hour];

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Pool, HistoryResolution Resolution), SortedDictionary<long, Bucket>> _series = [];

    public Task RecordSamplesAsync(IReadOnlyCollection<PoolSample> samples, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var sample in samples)
            {
                foreach (var resolution in Resolutions)
                {
                    var bucket = BucketOf(sample.Pool, resolution, at);
                    if (resolution == HistoryResolution.Minute)
                    {
                        // The latest sample of a minute stands for the minute.
                        bucket.Ready = bucket.Pending = bucket.Running = 0;
                        bucket.Samples = 0;
                    }

                    bucket.Ready += sample.Ready;
                    bucket.Pending += sample.Pending;
                    bucket.Running += sample.Running;
                    bucket.Samples++;
                }
            }

            Trim(at);
        }

        return Task.CompletedTask;
    }

    public Task RecordCheckoutsAsync(string pool, int count, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var resolution in Resolutions)
            {
                BucketOf(pool, resolution, at).Checkouts += count;
            }

            Trim(at);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, IReadOnlyList<HistoryPoint>>> GetAsync(
        IReadOnlyCollection<string> pools,
        HistoryResolution resolution,
        DateTimeOffset from,
        DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        var last = HistoryConstants.Bucket(resolution, to);
        var result = new Dictionary<string, IReadOnlyList<HistoryPoint>>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var pool in pools.Distinct(StringComparer.Ordinal))
            {
                if (!_series.TryGetValue((pool, resolution), out var series))
                {
                    continue;
                }

                var points = series
                    .Where(e => e.Key <= last && HistoryConstants.BucketStart(resolution, e.Key) >= from)
                    .Select(e => e.Value.ToPoint(HistoryConstants.BucketStart(resolution, e.Key)))
                    .ToList();
                if (points.Count > 0)
                {
                    result[pool] = points;
                }
            }
        }

        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlyList<HistoryPoint>>>(result);
    }

    private Bucket BucketOf(string pool, HistoryResolution resolution, DateTimeOffset at)
    {
        if (!_series.TryGetValue((pool, resolution), out var series))
        {
            _series[(pool, resolution)] = series = [];
        }

        var number = HistoryConstants.Bucket(resolution, at);
        if (!series.TryGetValue(number, out var bucket))
        {
            series[number] = bucket = new Bucket();
        }

        return bucket;
    }

    private void Trim(DateTimeOffset now)
    {
        foreach (var (key, series) in _series.ToList())
        {
            var oldest = HistoryConstants.OldestKept(key.Resolution, now);
            while (series.Count > 0 && series.First().Key < oldest)
            {
                series.Remove(series.First().Key);
            }

            if (series.Count == 0)
            {
                _series.Remove(key);
            }
        }
    }

    private sealed class Bucket
    {
        public long Ready;
        public long Pending;
        public long Running;
        public long Samples;
        public long Checkouts;

        public HistoryPoint ToPoint(DateTimeOffset at) => Samples == 0
            ? new HistoryPoint(at, null, null, null, Checkouts)
            : new HistoryPoint(at, (double)Ready / Samples, (double)Pending / Samples, (double)Running / Samples, Checkouts);
    }
}
