using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VmPooler.Core.Operations;

/// <summary>One health evaluation: the verdict, every reason for it, and the per-pool measurements behind it.</summary>
public sealed record HealthReport(HealthStatus Status, IReadOnlyList<string> Reasons, DateTimeOffset CheckedAt, IReadOnlyList<PoolHealth> Pools)
{
    public const string DocumentName = "health";

    public static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };

    public int Stuck => Pools.Sum(p => p.Stuck);

    public int DeadLetters => Pools.Sum(p => p.DeadLetters);

    public int Orphans => Pools.Sum(p => p.Orphans);

    public JsonObject ToJson()
    {
        var pools = new JsonObject();
        foreach (var p in Pools)
        {
            pools[p.Pool] = new JsonObject
            {
                ["pending"] = p.Pending,
                ["ready"] = p.Ready,
                ["oldest_pending"] = Math.Round(p.OldestPendingSeconds, 1),
                ["oldest_ready"] = Math.Round(p.OldestReadySeconds, 1),
                ["stuck"] = p.Stuck,
                ["dlq"] = p.DeadLetters,
                ["orphans"] = p.Orphans,
            };
        }

        return new JsonObject
        {
            ["status"] = Name(Status),
            ["reasons"] = new JsonArray([.. Reasons.Select(r => JsonValue.Create(r))]),
            ["last_check"] = CheckedAt.ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture),
            ["totals"] = new JsonObject { ["stuck"] = Stuck, ["dlq"] = DeadLetters, ["orphans"] = Orphans },
            ["pools"] = pools,
        };
    }

    /// <summary>The verdict of a stored report (<see cref="ToJson"/>), or null when it cannot be read.</summary>
    public static HealthStatus? StatusOf(string json)
    {
        try
        {
            return (JsonNode.Parse(json) as JsonObject)?["status"]?.GetValue<string>() switch
            {
                "healthy" => HealthStatus.Healthy,
                "degraded" => HealthStatus.Degraded,
                "unhealthy" => HealthStatus.Unhealthy,
                _ => null,
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
