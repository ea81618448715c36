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
        if (context.RequestServices.GetService<IOperationsStateStore>() is not { } store
            || await store.GetAsync(CircuitBreakerJson.DocumentName, context.RequestAborted) is not { } json)
        {
            return [];
        }

        JsonObject? providers;
        try
        {
            providers = JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return [];
        }

        if (providers is null || providers.Count == 0)
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
}
