using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Api.Http;
using VmPooler.Core.Inventory;
using VmPooler.Core.Operations;

namespace VmPooler.Api.Operations;

/// <summary>
/// <c>GET /dlq[?pool=…&amp;offset=…&amp;limit=…]</c>: the dead-letter queue, newest first, paged (issue 14; upstream keeps
/// it in Redis only). Also how <c>GET /vm/&lt;host&gt;</c> says why a VM failed.
/// </summary>
internal static class DeadLetterApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static RouteGroupBuilder MapDeadLetterApi(this RouteGroupBuilder api)
    {
        api.MapGet("/dlq", ListAsync);
        return api;
    }

    public static async Task<IResult> ListAsync(HttpContext context, ApiServices services)
    {
        var queue = context.RequestServices.GetRequiredService<IDeadLetterQueue>();
        var query = context.Request.Query;
        var offset = ReadCount(query["offset"], 0, int.MaxValue, 0, out var offsetError);
        var limit = ReadCount(query["limit"], 1, MaxLimit, DefaultLimit, out var limitError);
        if ((offsetError ?? limitError) is { } error)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, error);
        }

        IReadOnlyCollection<string> pools = services.Pools.PoolNames;
        if (query["pool"] is { Count: > 0 } wanted)
        {
            var pool = wanted.ToString();
            if (services.Pools.Find(pool) is null)
            {
                return ApiResults.Error(StatusCodes.Status404NotFound, $"unknown pool: {pool}");
            }

            pools = [pool];
        }

        var page = await queue.ListAsync(pools, offset, limit, context.RequestAborted);
        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject
        {
            ["ok"] = true,
            ["enabled"] = queue.Enabled,
            ["total"] = page.Total,
            ["offset"] = offset,
            ["limit"] = limit,
            ["entries"] = new JsonArray([.. page.Entries.Select(e => (JsonNode)Describe(e, withVm: true))]),
        });
    }

    /// <summary>
    /// Why <paramref name="vm"/> failed, or null when it did not: its newest dead-letter entry, else what the VM's own
    /// record says (a clone error, or the ready-check error of a VM the manager gave up on).
    /// </summary>
    public static async Task<JsonObject?> FailureOfAsync(VmView vm, HttpContext context)
    {
        if (context.RequestServices.GetService<IDeadLetterQueue>() is { Enabled: true } queue
            && await queue.FindAsync(vm.Pool, vm.Name, context.RequestAborted) is { } entry)
        {
            return Describe(entry, withVm: false);
        }

        if (vm.CloneError is { } cloneError)
        {
            return new JsonObject { ["queue"] = "clone", ["reason"] = cloneError };
        }

        var gaveUp = vm.State is VmState.Completed or null && vm.CheckedOut is null;
        return gaveUp && vm.OpenSocketError is { } socketError
            ? new JsonObject { ["queue"] = vm.Ready is null ? "pending" : "ready", ["reason"] = socketError }
            : null;
    }

    private static JsonObject Describe(DeadLetterEntry entry, bool withVm)
    {
        var json = new JsonObject();
        if (withVm)
        {
            json["vm"] = entry.Vm;
            json["pool"] = entry.Pool;
        }

        json["queue"] = DeadLetterKinds.Name(entry.Kind);
        json["reason"] = entry.Reason;
        json["failed_at"] = entry.Time.ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture);
        json["attempts"] = entry.Attempts;
        return json;
    }

    private static int ReadCount(Microsoft.Extensions.Primitives.StringValues raw, int min, int max, int fallback, out string? error)
    {
        error = null;
        if (raw.Count == 0)
        {
            return fallback;
        }

        if (int.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        error = string.Create(CultureInfo.InvariantCulture, $"offset and limit must be whole numbers (limit {min}-{max})");
        return fallback;
    }
}
