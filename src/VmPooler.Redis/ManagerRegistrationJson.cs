using System.Globalization;
using System.Text;
using System.Text.Json;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;

namespace VmPooler.Redis;

/// <summary>
/// A manager's registration as stored in Redis: <c>{"id": …, "pools": [...], "labels": {…}, "renewed": "&lt;round-trip time&gt;"}</c>.
/// Written and read by hand (no reflection); anything else reads as a <see cref="JsonException"/>.
/// </summary>
internal static class ManagerRegistrationJson
{
    public static string Write(ManagerRegistration registration)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", registration.Id);
            writer.WriteStartArray("pools");
            foreach (var pool in registration.Pools)
            {
                writer.WriteStringValue(pool);
            }

            writer.WriteEndArray();
            writer.WriteStartObject("labels");
            foreach (var (key, value) in registration.Labels)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            writer.WriteString("renewed", VmTime.Format(registration.Renewed));
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static ManagerRegistration Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("a registration must be a JSON object");
        }

        var id = String(root, "id");
        var pools = Property(root, "pools", JsonValueKind.Array).EnumerateArray().Select(p => Text(p, "pools")).ToList();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in Property(root, "labels", JsonValueKind.Object).EnumerateObject())
        {
            labels[label.Name] = Text(label.Value, "labels");
        }

        var renewedText = String(root, "renewed");
        if (!DateTimeOffset.TryParseExact(renewedText, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var renewed))
        {
            throw new JsonException($"renewed is not a time: {renewedText}");
        }

        return new ManagerRegistration(id, pools, labels, renewed);
    }

    private static JsonElement Property(JsonElement root, string name, JsonValueKind kind)
        => root.TryGetProperty(name, out var value) && value.ValueKind == kind
            ? value
            : throw new JsonException($"{name} is missing or not a JSON {kind.ToString().ToLowerInvariant()}");

    private static string String(JsonElement root, string name) => Text(Property(root, name, JsonValueKind.String), name);

    private static string Text(JsonElement element, string name)
        => element.ValueKind == JsonValueKind.String ? element.GetString()! : throw new JsonException($"{name} holds a value that is not a string");
}
