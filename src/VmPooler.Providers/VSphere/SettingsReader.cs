using System.Globalization;

namespace VmPooler.Providers.VSphere;

/// <summary>
/// Reads provider and pool settings (raw YAML values: strings, lists, mappings) into typed values, recording every
/// problem as <c>"&lt;key path&gt;: &lt;what is wrong&gt;"</c>. Keys match exactly first, then ignoring case
/// (<c>snapshot_mainMem_ioBlockPages</c> is spelled both ways in the wild).
/// </summary>
internal sealed class SettingsReader(IReadOnlyDictionary<string, object?> settings, string path, ICollection<string> errors)
{
    public string Path { get; } = path;

    public object? Raw(string key)
    {
        if (settings.TryGetValue(key, out var value))
        {
            return value;
        }

        foreach (var (k, v) in settings)
        {
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }

        return null;
    }

    public void Error(string key, string message) => errors.Add($"{Path}.{key}: {message}");

    public string? String(string key)
    {
        switch (Raw(key))
        {
            case null:
                return null;
            case string text:
                return text;
            case var other:
                Error(key, "must be a string (got " + Describe(other) + ")");
                return null;
        }
    }

    public string? RequiredString(string key, string what)
    {
        var value = String(key);
        if (string.IsNullOrWhiteSpace(value))
        {
            if (value is not null || Raw(key) is null)
            {
                Error(key, "is required (" + what + ")");
            }

            return null;
        }

        return value;
    }

    public bool? Bool(string key)
    {
        var raw = Raw(key);
        if (raw is null)
        {
            return null;
        }

        if (raw is string text && ParseBool(text) is { } value)
        {
            return value;
        }

        Error(key, "must be true or false (got " + Describe(raw) + ")");
        return null;
    }

    public int? Int(string key, int min, int max = int.MaxValue)
    {
        var raw = Raw(key);
        if (raw is null)
        {
            return null;
        }

        if (raw is string text && int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        Error(key, $"must be an integer from {min} to {max} (got {Describe(raw)})");
        return null;
    }

    public TimeSpan? Seconds(string key)
    {
        var raw = Raw(key);
        if (raw is null)
        {
            return null;
        }

        if (raw is string text && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && value < 1e7)
        {
            return TimeSpan.FromSeconds(value);
        }

        Error(key, "must be a number of seconds > 0 (got " + Describe(raw) + ")");
        return null;
    }

    public IReadOnlyList<string>? StringList(string key)
    {
        switch (Raw(key))
        {
            case null:
                return null;
            case string text:
                return [text];
            case List<object?> items when items.All(i => i is string):
                return [.. items.Cast<string>()];
            case var other:
                Error(key, "must be a string or a list of strings (got " + Describe(other) + ")");
                return null;
        }
    }

    public IReadOnlyList<KeyValuePair<string, string>>? StringMap(string key)
    {
        switch (Raw(key))
        {
            case null:
                return null;
            case Dictionary<string, object?> map when map.Values.All(v => v is string):
                return [.. map.Select(kv => new KeyValuePair<string, string>(kv.Key, (string)kv.Value!))];
            case var other:
                Error(key, "must be a mapping of names to string values (got " + Describe(other) + ")");
                return null;
        }
    }

    public static bool? ParseBool(string text) => text.Trim().ToUpperInvariant() switch
    {
        "TRUE" or "YES" or "ON" => true,
        "FALSE" or "NO" or "OFF" => false,
        _ => null,
    };

    public static string Describe(object? value) => value switch
    {
        null => "nothing",
        string text => "\"" + text + "\"",
        List<object?> => "a list",
        Dictionary<string, object?> => "a mapping",
        _ => value.GetType().Name,
    };
}
