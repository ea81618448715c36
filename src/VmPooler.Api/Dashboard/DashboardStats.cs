using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using VmPooler.Api.Http;
using VmPooler.Core.History;

namespace VmPooler.Api.Dashboard;

/// <summary>
/// The data routes of the original dashboard (spec §2.9), for pages and scripts written against them:
/// <c>/dashboard/stats/vmpooler/pool</c> (<c>{"&lt;pool&gt;": {"size", "ready"}}</c>) and
/// <c>/dashboard/stats/vmpooler/running</c> (running counts summed by the pool-name prefix before the first <c>-</c>).
/// With <c>?history</c> each entry gets <c>history</c>: the last hour's minute values from the built-in history (where
/// the original asked Graphite), each repeated <see cref="Repeat"/> times with gaps carrying the previous value, or
/// <c>[current]</c> when nothing has been recorded yet.
/// </summary>
internal static class DashboardStats
{
    /// <summary>How often each datapoint is repeated (the original's Graphite handling).</summary>
    public const int Repeat = 8;

    public static readonly TimeSpan HistoryWindow = TimeSpan.FromHours(1);

    public static async Task<IResult> PoolAsync(HttpContext context, ApiServices services, IHistoryStore history)
    {
        var ct = context.RequestAborted;
        var (pools, _) = await services.EffectivePoolsAsync(ct);
        var names = pools.Select(p => p.Name).ToList();
        var counts = await services.Inventory.GetCountsAsync(names, ct);
        var withHistory = DashboardApi.WantsHistory(context.Request);
        var points = withHistory ? await LastHourAsync(services, history, names, ct) : null;

        var body = new JsonObject();
        foreach (var pool in pools)
        {
            var ready = counts.TryGetValue(pool.Name, out var c) ? c.Ready : 0;
            var entry = new JsonObject { ["size"] = pool.Size, ["ready"] = ready };
            if (points is not null)
            {
                entry["history"] = Series(points.GetValueOrDefault(pool.Name) ?? [], p => p.Ready, ready);
            }

            body[pool.Name] = entry;
        }

        return ApiResults.Json(StatusCodes.Status200OK, body);
    }

    public static async Task<IResult> RunningAsync(HttpContext context, ApiServices services, IHistoryStore history)
    {
        var ct = context.RequestAborted;
        var names = services.Pools.PoolNames;
        var counts = await services.Inventory.GetCountsAsync(names, ct);
        var withHistory = DashboardApi.WantsHistory(context.Request);
        var points = withHistory ? await LastHourAsync(services, history, names, ct) : null;

        var body = new JsonObject();
        foreach (var group in names.GroupBy(Major, StringComparer.Ordinal))
        {
            var running = group.Sum(p => counts.TryGetValue(p, out var c) ? c.Running : 0);
            var entry = new JsonObject { ["running"] = running };
            if (points is not null)
            {
                // Sum the group's pools per minute, then treat the sum like one pool's series.
                var summed = group
                    .SelectMany(p => points.GetValueOrDefault(p) ?? [])
                    .Where(p => p.Running is not null)
                    .GroupBy(p => p.At)
                    .OrderBy(g => g.Key)
                    .Select(g => new HistoryPoint(g.Key, null, null, g.Sum(p => p.Running), 0))
                    .ToList();
                entry["history"] = Series(summed, p => p.Running, running);
            }

            body[group.Key] = entry;
        }

        return ApiResults.Json(StatusCodes.Status200OK, body);
    }

    /// <summary>The "major" of a pool name: everything before the first <c>-</c> (the whole name when there is none).</summary>
    public static string Major(string pool) => pool.Split('-', 2)[0];

    /// <summary>
    /// Minute values from the first recorded minute to the last, a missing or empty minute carrying the previous value,
    /// each repeated <see cref="Repeat"/> times; <c>[current]</c> when there are none.
    /// </summary>
    public static JsonArray Series(IReadOnlyList<HistoryPoint> points, Func<HistoryPoint, double?> value, int current)
    {
        var known = points.Where(p => value(p) is not null).ToList();
        if (known.Count == 0)
        {
            return [current];
        }

        var byMinute = known.ToDictionary(p => HistoryConstants.Bucket(HistoryResolution.Minute, p.At), p => value(p)!.Value);
        var first = byMinute.Keys.Min();
        var last = byMinute.Keys.Max();
        var series = new JsonArray();
        var previous = byMinute[first];
        for (var minute = first; minute <= last; minute++)
        {
            previous = byMinute.GetValueOrDefault(minute, previous);
            for (var i = 0; i < Repeat; i++)
            {
                series.Add(previous);
            }
        }

        return series;
    }

    private static Task<IReadOnlyDictionary<string, IReadOnlyList<HistoryPoint>>> LastHourAsync(
        ApiServices services, IHistoryStore history, IReadOnlyList<string> names, CancellationToken ct)
    {
        var now = services.Time.GetUtcNow();
        return history.GetAsync(names, HistoryResolution.Minute, now - HistoryWindow, now, ct);
    }
}
