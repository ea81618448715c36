using System.Globalization;
using System.Text.Json.Nodes;

namespace VmPooler.Core.Operations;

/// <summary>The published form of the providers' breakers (document <see cref="DocumentName"/>), as <c>/status</c> shows it.</summary>
public static class CircuitBreakerJson
{
    public const string DocumentName = "breakers";

    public static JsonObject Write(IEnumerable<CircuitBreakerSnapshot> snapshots)
    {
        var providers = new JsonObject();
        foreach (var s in snapshots)
        {
            var entry = new JsonObject
            {
                ["state"] = s.State switch { CircuitState.Closed => "closed", CircuitState.HalfOpen => "half-open", _ => "open" },
                ["failures"] = s.ConsecutiveFailures,
                ["rejected"] = s.Rejected,
                ["timeout"] = Math.Round(s.Timeout.TotalSeconds, 1),
            };
            if (s.OpenedAt is { } opened && s.State != CircuitState.Closed)
            {
                entry["opened_at"] = opened.ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture);
            }

            if (s.RetryAt is { } retry)
            {
                entry["retry_at"] = retry.ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture);
            }

            if (s.LastError is { } error && s.ConsecutiveFailures > 0)
            {
                entry["last_error"] = error;
            }

            providers[s.Provider] = entry;
        }

        return providers;
    }

    /// <summary>The providers whose breaker is not closed, from a published document.</summary>
    public static IReadOnlyList<string> Down(JsonObject providers)
        => [.. providers.Where(p => p.Value?["state"]?.GetValue<string>() is "open" or "half-open").Select(p => p.Key)];
}
