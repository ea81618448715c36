using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Core.Operations;

namespace VmPooler.Api.Status;

/// <summary>
/// The <c>providers</c> section of <c>/status</c> (issue 14): each provider's circuit breaker as the manager last
/// published it, and which providers are down. Absent while no manager has published (e.g. an API-only test server).
/// </summary>
internal static class ProviderStatus
{
    /// <summary>Adds <c>providers</c> to <paramref name="body"/> when wanted and known; returns the providers that are down.</summary>
    public static async Task<IReadOnlyList<string>> AddAsync(JsonObject body, bool wanted, HttpContext context)
    {
        if (await ReadAsync(context) is not { } providers)
        {
            return [];
        }

        var down = CircuitBreakerJson.Down(providers);
        if (wanted)
        {
            body["providers"] = providers;
        }

        return down;
    }

    /// <summary>The breakers as the manager last published them (provider → state …), or null when none are known.</summary>
    public static async Task<JsonObject?> ReadAsync(HttpContext context)
    {
        if (context.RequestServices.GetService<IOperationsStateStore>() is not { } store
            || await store.GetAsync(CircuitBreakerJson.DocumentName, context.RequestAborted) is not { } json)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(json) is JsonObject { Count: > 0 } providers ? providers : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
