using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace VmPooler.Telemetry.Health;

/// <summary>
/// Health answers in the API's JSON style: <c>{"ok": true, "status": "Healthy", "checks": {…}}</c>, and when not ready
/// <c>"ok": false</c> plus <c>"error"</c> naming what is not ready.
/// </summary>
internal static class HealthResponseWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var checks = new JsonObject();
        var failing = new List<string>();
        foreach (var (name, entry) in report.Entries)
        {
            checks[name] = new JsonObject
            {
                ["status"] = entry.Status.ToString(),
                ["description"] = entry.Description,
            };
            if (entry.Status != HealthStatus.Healthy)
            {
                failing.Add(name + ": " + entry.Description);
            }
        }

        var body = new JsonObject
        {
            ["ok"] = report.Status == HealthStatus.Healthy,
            ["status"] = report.Status.ToString(),
        };
        if (failing.Count > 0)
        {
            body["error"] = "not ready: " + string.Join("; ", failing);
        }

        if (checks.Count > 0)
        {
            body["checks"] = checks;
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions { WriteIndented = false }), context.RequestAborted);
    }
}
