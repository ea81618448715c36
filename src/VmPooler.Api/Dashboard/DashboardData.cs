using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using VmPooler.Api.Http;
using VmPooler.Api.Status;
using VmPooler.Core.Configuration;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.Core.Operations;

namespace VmPooler.Api.Dashboard;

/// <summary>
/// <c>GET /dashboard/data[?history=1]</c>: everything the page shows, in one document, so one request per refresh
/// serves any number of pools. Live: per pool size/ready/pending/running/last boot, totals, today's clone and boot
/// times and checkouts. With <c>history</c>: the totals per minute over the last 24 hours and per hour over the last
/// 7 days, and per day over the last 7 days the clone and boot times and checkouts.
/// </summary>
internal static class DashboardData
{
    /// <summary>How many days (today included) the daily history covers.</summary>
    public const int Days = 7;

    /// <summary>How often the page refreshes, in seconds.</summary>
    public const int RefreshSeconds = 5;

    public static async Task<IResult> GetAsync(HttpContext context, ApiServices services, IHistoryStore history)
    {
        var ct = context.RequestAborted;
        var now = services.Time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var midnight = new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var (pools, _) = await services.EffectivePoolsAsync(ct);
        var names = pools.Select(p => p.Name).ToList();
        var counts = await services.Inventory.GetCountsAsync(names, ct);
        var lastBoot = await services.Inventory.GetLastBootAsync(ct);
        var clone = await services.Inventory.GetDurationsAsync(DurationKind.Clone, today, ct);
        var boot = await services.Inventory.GetDurationsAsync(DurationKind.Boot, today, ct);
        var todayHours = await history.GetAsync(names, HistoryResolution.Hour, midnight, now, ct);
        var lastHour = await history.GetAsync(names, HistoryResolution.Minute, now - TimeSpan.FromHours(1), now, ct);

        var poolNodes = new JsonArray();
        int size = 0, ready = 0, pending = 0, running = 0;
        foreach (var pool in pools)
        {
            var count = counts.TryGetValue(pool.Name, out var c) ? c : default;
            size += pool.Size;
            ready += count.Ready;
            pending += count.Pending;
            running += count.Running;
            poolNodes.Add(new JsonObject
            {
                ["name"] = pool.Name,
                ["size"] = pool.Size,
                ["ready"] = count.Ready,
                ["pending"] = count.Pending,
                ["running"] = count.Running,
                ["lastBoot"] = lastBoot.TryGetValue(pool.Name, out var at) ? VmTime.Format(at) : null,
            });
        }

        var body = new JsonObject
        {
            ["site"] = DashboardAssets.SiteTitle(services.Options.Config.SiteName),
            ["now"] = VmTime.Format(now),
            ["refresh"] = RefreshSeconds,
            ["totals"] = new JsonObject
            {
                ["pools"] = pools.Count,
                ["size"] = size,
                ["ready"] = ready,
                ["pending"] = pending,
                ["running"] = running,
                ["percent"] = size == 0 ? 0.0 : Math.Round(ready * 100.0 / size, 1),
            },
            ["clone"] = Durations(clone),
            ["boot"] = Durations(boot),
            ["checkouts"] = new JsonObject
            {
                ["lastHour"] = lastHour.Values.SelectMany(p => p).Sum(p => p.Checkouts),
                ["today"] = todayHours.Values.SelectMany(p => p).Sum(p => p.Checkouts),
            },
            ["pools"] = poolNodes,
            ["providersDown"] = ProvidersDown(await ProviderStatus.ReadAsync(context), pools),
        };

        if (DashboardApi.WantsHistory(context.Request))
        {
            body["history"] = await HistoryAsync(services, history, names, now, today, ct);
        }

        // Compact, unlike the API's indented answers: with history and hundreds of pools the page polls a big document.
        return Results.Bytes(JsonSerializer.SerializeToUtf8Bytes(body), ApiResults.JsonContentType);
    }

    /// <summary>
    /// The providers whose circuit breaker is open or half-open (issue 14), for the page's banner: <c>[{"name", "state",
    /// "since", "retryAt", "lastError", "pools": [...]}]</c>, empty when every provider is up or none is known.
    /// </summary>
    public static JsonArray ProvidersDown(JsonObject? providers, IReadOnlyList<PoolOptions> pools)
    {
        var down = new JsonArray();
        if (providers is null)
        {
            return down;
        }

        foreach (var name in CircuitBreakerJson.Down(providers))
        {
            var breaker = providers[name];
            down.Add(new JsonObject
            {
                ["name"] = name,
                ["state"] = breaker?["state"]?.DeepClone(),
                ["since"] = breaker?["opened_at"]?.DeepClone(),
                ["retryAt"] = breaker?["retry_at"]?.DeepClone(),
                ["lastError"] = breaker?["last_error"]?.DeepClone(),
                ["pools"] = new JsonArray([.. pools.Where(p => p.Provider == name).Select(p => JsonValue.Create(p.Name))]),
            });
        }

        return down;
    }

    /// <summary>Count, average, min and max of one day's durations (seconds; zeros when there are none).</summary>
    public static JsonObject Durations(IReadOnlyDictionary<string, double> durations)
    {
        var values = durations.Values.ToList();
        return new JsonObject
        {
            ["count"] = values.Count,
            ["average"] = values.Count == 0 ? 0 : Math.Round(values.Average(), 1, MidpointRounding.AwayFromZero),
            ["min"] = values.Count == 0 ? 0 : Math.Round(values.Min(), 2, MidpointRounding.AwayFromZero),
            ["max"] = values.Count == 0 ? 0 : Math.Round(values.Max(), 2, MidpointRounding.AwayFromZero),
        };
    }

    /// <summary>
    /// The totals over all <paramref name="pools"/> per bucket from <paramref name="from"/> to <paramref name="to"/>, as
    /// dense arrays: <c>{"start": epoch seconds of the first bucket, "step": seconds, "ready": […], "pending": […],
    /// "running": […], "checkouts": […]}</c>; a bucket without samples has null counts and 0 checkouts.
    /// </summary>
    public static JsonObject Totals(
        IReadOnlyDictionary<string, IReadOnlyList<HistoryPoint>> points,
        HistoryResolution resolution,
        DateTimeOffset from,
        DateTimeOffset to)
    {
        var step = (long)HistoryConstants.BucketLength(resolution).TotalSeconds;
        var first = HistoryConstants.Bucket(resolution, from + HistoryConstants.BucketLength(resolution) - TimeSpan.FromTicks(1));
        var last = HistoryConstants.Bucket(resolution, to);
        var length = (int)Math.Max(0, last - first + 1);
        var ready = new double?[length];
        var pending = new double?[length];
        var running = new double?[length];
        var checkouts = new long[length];
        foreach (var point in points.Values.SelectMany(p => p))
        {
            var index = HistoryConstants.Bucket(resolution, point.At) - first;
            if (index < 0 || index >= length)
            {
                continue;
            }

            checkouts[index] += point.Checkouts;
            if (point.Ready is { } r)
            {
                ready[index] = (ready[index] ?? 0) + r;
                pending[index] = (pending[index] ?? 0) + (point.Pending ?? 0);
                running[index] = (running[index] ?? 0) + (point.Running ?? 0);
            }
        }

        return new JsonObject
        {
            ["start"] = HistoryConstants.BucketStart(resolution, first).ToUnixTimeSeconds(),
            ["step"] = step,
            ["ready"] = Array(ready),
            ["pending"] = Array(pending),
            ["running"] = Array(running),
            ["checkouts"] = new JsonArray([.. checkouts.Select(c => (JsonNode?)c)]),
        };
    }

    private static async Task<JsonObject> HistoryAsync(
        ApiServices services,
        IHistoryStore history,
        IReadOnlyList<string> names,
        DateTimeOffset now,
        DateOnly today,
        CancellationToken ct)
    {
        var minuteFrom = now - HistoryConstants.MinuteRetention;
        var minutes = await history.GetAsync(names, HistoryResolution.Minute, minuteFrom, now, ct);
        var firstDay = today.AddDays(1 - Days);
        var hourFrom = new DateTimeOffset(firstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var hours = await history.GetAsync(names, HistoryResolution.Hour, hourFrom, now, ct);

        var checkoutsByDay = hours.Values.SelectMany(p => p)
            .GroupBy(p => DateOnly.FromDateTime(p.At.UtcDateTime))
            .ToDictionary(g => g.Key, g => g.Sum(p => p.Checkouts));
        var days = new JsonArray();
        for (var day = firstDay; day <= today; day = day.AddDays(1))
        {
            days.Add(new JsonObject
            {
                ["date"] = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["clone"] = Durations(await services.Inventory.GetDurationsAsync(DurationKind.Clone, day, ct)),
                ["boot"] = Durations(await services.Inventory.GetDurationsAsync(DurationKind.Boot, day, ct)),
                ["checkouts"] = checkoutsByDay.GetValueOrDefault(day),
            });
        }

        return new JsonObject
        {
            ["minutes"] = Totals(minutes, HistoryResolution.Minute, minuteFrom, now),
            ["hours"] = Totals(hours, HistoryResolution.Hour, hourFrom, now),
            ["days"] = days,
        };
    }

    private static JsonArray Array(double?[] values)
        => new([.. values.Select(v => v is { } x ? (JsonNode?)Math.Round(x, 2) : null)]);
}
