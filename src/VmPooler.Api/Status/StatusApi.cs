using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Http;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Api.Status;

/// <summary><c>/status</c>, <c>/poolstat</c> and <c>/totalrunning</c> (spec §2.8).</summary>
internal static class StatusApi
{
    public const string FullyArmed = "Battle station fully armed and operational.";

    private static readonly string[] Sections = ["boot", "capacity", "clone", "pools", "queue"];

    public static RouteGroupBuilder MapStatusApi(this RouteGroupBuilder api)
    {
        api.MapGet("/status", StatusAsync);
        api.MapGet("/poolstat", PoolStatAsync);
        api.MapGet("/totalrunning", TotalRunningAsync);
        return api;
    }

    /// <summary>GET /status[?view=a,b]: top-level keys sorted; <c>status</c> always present.</summary>
    public static async Task<IResult> StatusAsync(HttpContext context, ApiServices services)
    {
        var wanted = Wanted(context.Request);
        // Sizes as overridden at run time (spec: "pool sizes are first re-synced").
        var (pools, _) = await services.EffectivePoolsAsync(context.RequestAborted);
        var names = pools.Select(p => p.Name).ToList();
        var counts = await services.Inventory.GetCountsAsync(names, context.RequestAborted);
        var now = services.Time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var ct = context.RequestAborted;

        var body = new JsonObject();
        if (wanted("boot"))
        {
            body["boot"] = DurationStats(await services.Inventory.GetDurationsAsync(DurationKind.Boot, today, ct));
        }

        if (wanted("capacity"))
        {
            var total = pools.Sum(p => p.Size);
            var current = names.Sum(n => counts[n].Ready);
            body["capacity"] = new JsonObject
            {
                ["current"] = current,
                ["total"] = total,
                ["percent"] = total == 0 ? 0.0 : Math.Round(current * 100.0 / total, 1),
            };
        }

        if (wanted("clone"))
        {
            body["clone"] = DurationStats(await services.Inventory.GetDurationsAsync(DurationKind.Clone, today, ct));
        }

        var empty = new List<string>();
        if (wanted("pools"))
        {
            var lastBoot = await services.Inventory.GetLastBootAsync(ct);
            var poolsNode = new JsonObject();
            foreach (var pool in pools)
            {
                var count = counts[pool.Name];
                var entry = new JsonObject
                {
                    ["ready"] = count.Ready,
                    ["running"] = count.Running,
                    ["pending"] = count.Pending,
                    ["max"] = pool.Size,
                    ["lastBoot"] = lastBoot.TryGetValue(pool.Name, out var boot) ? VmTime.FormatRuby(boot) : "",
                };
                if (AliasNode(pool) is { } alias)
                {
                    entry["alias"] = alias;
                }

                poolsNode[pool.Name] = entry;
                if (count.Ready == 0 && pool.Size != 0)
                {
                    empty.Add(pool.Name);
                }
            }

            body["pools"] = poolsNode;
        }

        var providersDown = await ProviderStatus.AddAsync(body, wanted("providers"), context);
        if (wanted("queue"))
        {
            var pending = names.Sum(n => counts[n].Pending);
            var cloning = names.Sum(n => counts[n].Cloning);
            var ready = names.Sum(n => counts[n].Ready);
            var running = names.Sum(n => counts[n].Running);
            var completed = names.Sum(n => counts[n].Completed);
            body["queue"] = new JsonObject
            {
                ["requested"] = 0,
                ["pending"] = pending,
                ["cloning"] = cloning,
                ["booting"] = Math.Max(pending - cloning, 0),
                ["ready"] = ready,
                ["running"] = running,
                ["completed"] = completed,
                ["total"] = pending + ready + running + completed,
            };
        }

        var status = new JsonObject
        {
            ["ok"] = empty.Count == 0,
            ["message"] = empty.Count == 0 ? FullyArmed : $"Found {empty.Count} empty pools.",
        };
        if (empty.Count > 0)
        {
            status["empty"] = new JsonArray([.. empty.Select(e => JsonValue.Create(e))]);
        }

        if (providersDown.Count > 0)
        {
            status["providers_down"] = new JsonArray([.. providersDown.Select(p => JsonValue.Create(p))]);
        }

        status["uptime"] = Math.Round((now - services.StartedAt).TotalSeconds, 1);
        body["status"] = status;
        return ApiResults.Json(StatusCodes.Status200OK, body);
    }

    /// <summary>GET /poolstat?pool=a,b: <c>{"pools": {name: {max, alias?, ready}}}</c> for the named pools or aliases.</summary>
    public static async Task<IResult> PoolStatAsync(HttpContext context, ApiServices services)
    {
        var requested = context.Request.Query["pool"].ToString()
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToHashSet(StringComparer.Ordinal);
        var (effective, _) = await services.EffectivePoolsAsync(context.RequestAborted);
        var selected = effective
            .Where(p => requested.Contains(p.Name) || p.Aliases.Any(requested.Contains))
            .ToList();
        var counts = await services.Inventory.GetCountsAsync([.. selected.Select(p => p.Name)], context.RequestAborted);
        var pools = new JsonObject();
        foreach (var pool in selected)
        {
            var entry = new JsonObject { ["max"] = pool.Size };
            if (AliasNode(pool) is { } alias)
            {
                entry["alias"] = alias;
            }

            entry["ready"] = counts[pool.Name].Ready;
            pools[pool.Name] = entry;
        }

        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject { ["pools"] = pools });
    }

    /// <summary>GET /totalrunning: <c>{"running": n}</c> across all pools.</summary>
    public static async Task<IResult> TotalRunningAsync(HttpContext context, ApiServices services)
    {
        var counts = await services.Inventory.GetCountsAsync(services.Pools.PoolNames, context.RequestAborted);
        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject { ["running"] = counts.Values.Sum(c => c.Running) });
    }

    /// <summary>
    /// Which sections to include: all without <c>view</c> (or with a bare <c>?view</c>), else those listed;
    /// unknown names are ignored and <c>?view=</c> leaves only <c>status</c>.
    /// </summary>
    private static Func<string, bool> Wanted(HttpRequest request)
    {
        var hasViewValue = (request.QueryString.Value ?? "").TrimStart('?').Split('&')
            .Any(pair => pair.StartsWith("view=", StringComparison.Ordinal));
        if (!request.Query.TryGetValue("view", out var view) || !hasViewValue)
        {
            return _ => true;
        }

        var names = view.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(n => Sections.Contains(n, StringComparer.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        return names.Contains;
    }

    /// <summary>Count, total, average, min and max of one day's durations (zeros when there are none).</summary>
    private static JsonObject DurationStats(IReadOnlyDictionary<string, double> durations)
    {
        var count = durations.Count;
        var total = durations.Values.Sum();
        return new JsonObject
        {
            ["duration"] = new JsonObject
            {
                ["average"] = count == 0 ? 0 : Math.Round(total / count, 1),
                ["min"] = count == 0 ? 0 : durations.Values.Min(),
                ["max"] = count == 0 ? 0 : durations.Values.Max(),
                ["total"] = Math.Round(total, 2),
            },
            ["count"] = new JsonObject { ["total"] = count },
        };
    }

    /// <summary>The pool's alias exactly as configured (a string or a list), or null.</summary>
    private static JsonNode? AliasNode(PoolOptions pool) => pool.AliasAsConfigured switch
    {
        string alias => JsonValue.Create(alias),
        IEnumerable<string> list => new JsonArray([.. list.Select(a => JsonValue.Create(a))]),
        IEnumerable<object?> list => new JsonArray([.. list.Select(a => JsonValue.Create(a?.ToString()))]),
        _ => null,
    };
}
