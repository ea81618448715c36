using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Api.Http;
using VmPooler.Core.Operations;

namespace VmPooler.Api.Operations;

/// <summary>
/// <c>GET /health</c>: the manager's last health evaluation (spec §4.10; upstream keeps it in Redis only). 200 with the
/// report whatever its verdict (the verdict is the <c>status</c> field; <c>/readyz</c> is the probe); 200 with
/// <c>"status": "unknown"</c> while none is stored (disabled, or no manager has evaluated yet).
/// </summary>
internal static class HealthApi
{
    public static RouteGroupBuilder MapHealthApi(this RouteGroupBuilder api)
    {
        api.MapGet("/health", GetAsync);
        return api;
    }

    public static async Task<IResult> GetAsync(HttpContext context, ApiServices services)
    {
        var store = context.RequestServices.GetRequiredService<IOperationsStateStore>();
        var enabled = services.Options.Operations.HealthCheckEnabled;
        JsonObject? report = null;
        if (await store.GetAsync(HealthReport.DocumentName, context.RequestAborted) is { } json)
        {
            try
            {
                report = JsonNode.Parse(json) as JsonObject;
            }
            catch (JsonException)
            {
                report = null;
            }
        }

        var body = new JsonObject { ["ok"] = true, ["enabled"] = enabled };
        if (report is null)
        {
            body["status"] = "unknown";
            body["message"] = enabled ? "no health evaluation stored yet" : "health checks are off (health_check_enabled)";
            return ApiResults.Json(StatusCodes.Status200OK, body);
        }

        foreach (var (key, value) in report.ToList())
        {
            report.Remove(key);
            body[key] = value;
        }

        return ApiResults.Json(StatusCodes.Status200OK, body);
    }
}
