using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VmPooler.Core.Operations;

/// <summary>
/// One failed VM in the dead-letter queue: which VM of which pool, the provider's error text, when, how many attempts
/// (the pool's consecutive clone failures including this one for a clone; 1 otherwise) and the queue it failed from.
/// </summary>
public sealed record DeadLetterEntry(string Vm, string Pool, string Reason, DateTimeOffset Time, int Attempts, DeadLetterKind Kind)
{
    /// <summary>The longest reason kept; a provider's error text can be a page of stack.</summary>
    public const int MaxReasonLength = 1000;

    /// <summary>The entry with its reason cut to <see cref="MaxReasonLength"/>.</summary>
    public DeadLetterEntry Bounded() => Reason.Length <= MaxReasonLength ? this : this with { Reason = Reason[..MaxReasonLength] };

    /// <summary>The JSON of upstream's DLQ members (spec §3.4): <c>vm</c>, <c>pool</c>, <c>queue_from</c>, <c>error_message</c>, <c>failed_at</c>, <c>retry_count</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["vm"] = Vm,
        ["pool"] = Pool,
        ["queue_from"] = DeadLetterKinds.Name(Kind),
        ["error_message"] = Reason,
        ["failed_at"] = Time.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
        ["retry_count"] = Attempts,
    };

    /// <summary>The compact JSON text of <see cref="ToJson"/>.</summary>
    public string ToJsonString() => ToJson().ToJsonString();

    /// <summary>Reads what <see cref="ToJson"/> wrote; null when it is not such an object.</summary>
    public static DeadLetterEntry? FromJson(string json)
    {
        try
        {
            if (JsonNode.Parse(json) is not JsonObject o
                || o["vm"]?.GetValue<string>() is not { } vm
                || o["pool"]?.GetValue<string>() is not { } pool
                || DeadLetterKinds.Parse(o["queue_from"]?.GetValue<string>()) is not { } kind
                || !DateTimeOffset.TryParse(o["failed_at"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
            {
                return null;
            }

            return new DeadLetterEntry(vm, pool, o["error_message"]?.GetValue<string>() ?? "", time, o["retry_count"]?.GetValue<int>() ?? 1, kind);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
