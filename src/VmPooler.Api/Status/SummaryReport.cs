using System.Text.Json.Nodes;

namespace VmPooler.Api.Status;

/// <summary>
/// The statistics behind <c>/summary</c> (spec §2.8) as pure functions of the recorded per-day data: one day's clone or
/// boot durations (<c>pool:vm</c> → seconds), one day's tag index (<c>vm:tag</c> → value), and their totals over a range.
/// Key orders follow the original so clients that compare bodies see the same shapes.
/// </summary>
internal static class SummaryReport
{
    /// <summary>The pool a duration key without <c>:</c> (or a tag key without <c>:</c>) is counted under.</summary>
    public const string Unknown = "unknown";

    /// <summary>Section keys of a boot/clone object.</summary>
    private static readonly string[] TaskSections = ["duration", "count"];

    /// <summary>
    /// One day of a task (boot or clone): <c>{"duration": {average, min, max, total, pool?}, "count": {total, pool?}}</c>,
    /// the <c>pool</c> objects only when the day has data. <paramref name="only"/> (the <c>key</c> of
    /// <c>/summary/&lt;section&gt;/&lt;key&gt;</c>) keeps just that sub-object — an unknown key leaves <c>{}</c>.
    /// </summary>
    public static JsonObject TaskDay(IReadOnlyDictionary<string, double> durations, string? only = null)
    {
        var count = durations.Count;
        var total = durations.Values.Sum();
        var duration = new JsonObject
        {
            ["average"] = count == 0 ? 0 : Math.Round(total / count, 1, MidpointRounding.AwayFromZero),
            ["min"] = count == 0 ? 0 : durations.Values.Min(),
            ["max"] = count == 0 ? 0 : durations.Values.Max(),
            ["total"] = Math.Round(total, 2, MidpointRounding.AwayFromZero),
        };
        var counts = new JsonObject { ["total"] = count };
        if (count > 0)
        {
            var durationByPool = new JsonObject();
            var countByPool = new JsonObject();
            foreach (var (pool, times) in ByPool(durations))
            {
                var poolTotal = times.Sum();
                durationByPool[pool] = new JsonObject
                {
                    ["total"] = Math.Round(poolTotal, 2, MidpointRounding.AwayFromZero),
                    ["average"] = Math.Round(poolTotal / times.Count, 1, MidpointRounding.AwayFromZero),
                    ["min"] = times.Min(),
                    ["max"] = times.Max(),
                };
                countByPool[pool] = new JsonObject { ["total"] = times.Count };
            }

            duration["pool"] = durationByPool;
            counts["pool"] = countByPool;
        }

        return Only(new JsonObject { ["duration"] = duration, ["count"] = counts }, only);
    }

    /// <summary>
    /// A task over a range of days: <c>{"duration": {total, min, max, average, pool: {p: {total, min, max, average}}},
    /// "count": {total, pool: {p: {total}}}}</c>. Unlike the original (quirk Q6) the range-level <c>min</c>,
    /// <c>max</c> and <c>average</c> are filled, and every <c>average</c> is the true mean of the durations (total ÷
    /// count), not the mean of the daily extremes. <paramref name="only"/> as for <see cref="TaskDay"/>.
    /// </summary>
    public static JsonObject TaskRange(IEnumerable<IReadOnlyDictionary<string, double>> days, string? only = null)
    {
        var all = new Stats();
        var pools = new Dictionary<string, Stats>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var day in days)
        {
            foreach (var (pool, times) in ByPool(day))
            {
                if (!pools.TryGetValue(pool, out var stats))
                {
                    pools[pool] = stats = new Stats();
                    order.Add(pool);
                }

                foreach (var time in times)
                {
                    stats.Add(time);
                    all.Add(time);
                }
            }
        }

        var durationByPool = new JsonObject();
        var countByPool = new JsonObject();
        foreach (var pool in order)
        {
            var stats = pools[pool];
            durationByPool[pool] = stats.Duration(withPool: null);
            countByPool[pool] = new JsonObject { ["total"] = stats.Count };
        }

        return Only(
            new JsonObject
            {
                ["duration"] = all.Duration(durationByPool),
                ["count"] = new JsonObject { ["total"] = all.Count, ["pool"] = countByPool },
            },
            only);
    }

    /// <summary>
    /// One day of tags: <c>{"&lt;tag&gt;": {"&lt;value&gt;": n, …, "total": n}}</c>, values and tags in the order first
    /// seen. <paramref name="only"/> restricts it to one tag name.
    /// </summary>
    public static JsonObject TagDay(IReadOnlyDictionary<string, string> tags, string? only = null)
    {
        var result = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (key, value) in tags)
        {
            var colon = key.IndexOf(':', StringComparison.Ordinal);
            var tag = colon < 0 ? Unknown : key[(colon + 1)..];
            if (only is not null && !string.Equals(tag, only, StringComparison.Ordinal))
            {
                continue;
            }

            if (!result.TryGetValue(tag, out var counts))
            {
                result[tag] = counts = new Dictionary<string, long>(StringComparer.Ordinal);
                order.Add(tag);
            }

            Increment(counts, value, 1);
            Increment(counts, "total", 1);
        }

        return ToJson(result, order);
    }

    /// <summary>Tags over a range: the daily counts of <see cref="TagDay"/> added up, in the order first seen.</summary>
    public static JsonObject TagRange(IEnumerable<JsonObject> tagDays)
    {
        var result = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var day in tagDays)
        {
            foreach (var (tag, values) in day)
            {
                if (!result.TryGetValue(tag, out var counts))
                {
                    result[tag] = counts = new Dictionary<string, long>(StringComparer.Ordinal);
                    order.Add(tag);
                }

                foreach (var (value, count) in values!.AsObject())
                {
                    Increment(counts, value, count!.GetValue<long>());
                }
            }
        }

        return ToJson(result, order);
    }

    /// <summary>Durations grouped by pool (the part of the key before the first <c>:</c>), pools in the order first seen.</summary>
    private static List<(string Pool, List<double> Times)> ByPool(IReadOnlyDictionary<string, double> durations)
    {
        var groups = new List<(string Pool, List<double> Times)>();
        var index = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var (key, seconds) in durations)
        {
            var colon = key.IndexOf(':', StringComparison.Ordinal);
            var pool = colon < 0 ? Unknown : key[..colon];
            if (!index.TryGetValue(pool, out var times))
            {
                index[pool] = times = [];
                groups.Add((pool, times));
            }

            times.Add(seconds);
        }

        return groups;
    }

    /// <summary>Drops every task section except <paramref name="only"/> (when given).</summary>
    private static JsonObject Only(JsonObject task, string? only)
    {
        if (only is not null)
        {
            foreach (var section in TaskSections)
            {
                if (!string.Equals(section, only, StringComparison.Ordinal))
                {
                    task.Remove(section);
                }
            }
        }

        return task;
    }

    private static void Increment(Dictionary<string, long> counts, string key, long by)
        => counts[key] = counts.GetValueOrDefault(key) + by;

    private static JsonObject ToJson(Dictionary<string, Dictionary<string, long>> tags, List<string> order)
    {
        var json = new JsonObject();
        foreach (var tag in order)
        {
            var values = new JsonObject();
            foreach (var (value, count) in tags[tag])
            {
                values[value] = count;
            }

            json[tag] = values;
        }

        return json;
    }

    /// <summary>Running count, total and extremes of a set of durations.</summary>
    private sealed class Stats
    {
        private double _min = double.MaxValue;
        private double _max = double.MinValue;

        public int Count { get; private set; }

        public double Total { get; private set; }

        public void Add(double seconds)
        {
            Count++;
            Total += seconds;
            _min = Math.Min(_min, seconds);
            _max = Math.Max(_max, seconds);
        }

        /// <summary><c>{total, min, max, average[, pool]}</c>, zeros when empty.</summary>
        public JsonObject Duration(JsonObject? withPool)
        {
            var json = new JsonObject
            {
                ["total"] = Math.Round(Total, 2, MidpointRounding.AwayFromZero),
                ["min"] = Count == 0 ? 0 : _min,
                ["max"] = Count == 0 ? 0 : _max,
                ["average"] = Count == 0 ? 0 : Math.Round(Total / Count, 1, MidpointRounding.AwayFromZero),
            };
            if (withPool is not null)
            {
                json["pool"] = withPool;
            }

            return json;
        }
    }
}
