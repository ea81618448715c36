using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Http;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;

namespace VmPooler.Api.Managers;

/// <summary>
/// <c>GET /managers</c> (ours; the original has one manager and no such route): the live pool managers as they registered
/// in the inventory, the pools each owns, the labels that limit which pools it may own, and when it last renewed. Read
/// from <see cref="IPoolLeaseStore"/>, so every API process shows the same list; an unreachable inventory is the usual 503.
/// </summary>
internal static class ManagersApi
{
    public static RouteGroupBuilder MapManagersApi(this RouteGroupBuilder api)
    {
        api.MapGet("/managers", ListAsync);
        return api;
    }

    /// <summary>GET /managers: <c>{"ok": true, "managers": [{"id", "pools", "labels", "renewed"}]}</c>, ordered by id.</summary>
    public static async Task<IResult> ListAsync(HttpContext context, ApiServices services)
    {
        var managers = await services.Leases.GetManagersAsync(context.RequestAborted);
        var list = new JsonArray();
        foreach (var manager in managers)
        {
            list.Add(ToJson(manager));
        }

        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject { ["ok"] = true, ["managers"] = list });
    }

    private static JsonObject ToJson(ManagerRegistration manager)
    {
        var labels = new JsonObject();
        foreach (var (key, value) in manager.Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            labels[key] = value;
        }

        return new JsonObject
        {
            ["id"] = manager.Id,
            ["pools"] = new JsonArray([.. manager.Pools.Select(p => (JsonNode?)JsonValue.Create(p))]),
            ["labels"] = labels,
            ["renewed"] = VmTime.FormatRfc3339(manager.Renewed.ToUniversalTime()),
        };
    }
}
