using System.Globalization;

namespace VmPooler.Core.Configuration;

/// <summary>How a numeric option is bounded.</summary>
public enum NumberRule
{
    /// <summary>Any finite number.</summary>
    Any,

    /// <summary>A number ≥ 0.</summary>
    NonNegative,

    /// <summary>A number &gt; 0.</summary>
    Positive,
}

/// <summary>
/// Reads typed values out of a configuration tree (see <see cref="YamlTree"/>), recording every problem as
/// <c>"&lt;key path&gt;: &lt;what is wrong&gt;"</c> instead of stopping at the first one. Absent and null values read
/// as null (the caller applies the default); a value of the wrong type reads as null and records an error.
/// </summary>
/// <remarks>
/// The one reader of the vmpooler YAML format: Core's mapper and every provider read their settings through it
/// (a provider through a <see cref="ConfigSection"/>), so one rule set holds everywhere. Keys match exactly (after the
/// Ruby-symbol colon is stripped), as in the original. Booleans are <c>true</c>/<c>false</c>, also
/// <c>yes</c>/<c>no</c>/<c>on</c>/<c>off</c>, in any case. Numbers are invariant-culture integers or decimals. A
/// duration is a number of the unit its key documents (fractional allowed), typed as a <see cref="TimeSpan"/> here at
/// the edge.
/// </remarks>
public sealed class ConfigReader
{
    /// <summary>The longest duration a <see cref="ReadSeconds"/> option accepts unless it says otherwise: 10⁷ s (about 115 days).</summary>
    public const double MaxDurationSeconds = 1e7;

    private readonly List<string> _errors = [];

    /// <summary>Every problem recorded so far, in the order found.</summary>
    public IReadOnlyList<string> Errors => _errors;

    /// <summary>The path of <paramref name="key"/> inside <paramref name="parent"/>: <c>config.timeout</c>.</summary>
    public static string Child(string parent, string key) => parent.Length == 0 ? key : parent + "." + key;

    /// <summary>The path of item <paramref name="index"/> of the sequence at <paramref name="parent"/>: <c>pools[2]</c>.</summary>
    public static string Item(string parent, int index)
        => string.Create(CultureInfo.InvariantCulture, $"{parent}[{index}]");

    /// <summary>How a value is shown in a message: <c>"five"</c>, <c>a list</c>, <c>a mapping</c>, <c>nothing</c>.</summary>
    public static string Describe(object? value) => value switch
    {
        null => "nothing",
        string text => "\"" + text + "\"",
        List<object?> => "a list",
        Dictionary<string, object?> => "a mapping",
        _ => value.GetType().Name,
    };

    /// <summary>Records a problem at <paramref name="path"/>.</summary>
    public void Error(string path, string message) => _errors.Add(path + ": " + message);

    /// <summary>Records problems that already name their key (e.g. from a provider factory).</summary>
    public void AddRange(IEnumerable<string> messages) => _errors.AddRange(messages);

    /// <summary>The mapping <paramref name="map"/> at <paramref name="path"/>, read through this reader key by key.</summary>
    public ConfigSection Section(IReadOnlyDictionary<string, object?> map, string path) => new(this, map, path);

    /// <summary>Whether <paramref name="key"/> is present with a value other than null.</summary>
    public static bool HasValue(IReadOnlyDictionary<string, object?> map, string key)
        => map.TryGetValue(key, out var value) && value is not null;

    /// <summary>
    /// A required string: absent, null or blank records <c>"is required (<paramref name="what"/>)"</c> and reads as null.
    /// </summary>
    public string? ReadRequiredString(IReadOnlyDictionary<string, object?> map, string key, string path, string what)
    {
        var value = ReadString(map, key, path);
        if (string.IsNullOrWhiteSpace(value))
        {
            if (value is not null || !HasValue(map, key))
            {
                Error(path, "is required (" + what + ")");
            }

            return null;
        }

        return value;
    }

    /// <summary>A scalar string value.</summary>
    public string? ReadString(IReadOnlyDictionary<string, object?> map, string key, string path)
    {
        var value = Get(map, key);
        switch (value)
        {
            case null:
                return null;
            case string text:
                return text;
            default:
                Error(path, "must be a string (got " + Describe(value) + ")");
                return null;
        }
    }

    /// <summary>An integer within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int? ReadInt(IReadOnlyDictionary<string, object?> map, string key, string path, int min, int max = int.MaxValue)
    {
        var value = Get(map, key);
        if (value is null)
        {
            return null;
        }

        if (value is string text
            && int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            && number >= min && number <= max)
        {
            return number;
        }

        var rule = (min, max) switch
        {
            (int.MinValue, int.MaxValue) => "must be an integer",
            (_, int.MaxValue) => string.Create(CultureInfo.InvariantCulture, $"must be an integer ≥ {min}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"must be an integer between {min} and {max}"),
        };
        Error(path, rule + " (got " + Describe(value) + ")");
        return null;
    }

    /// <summary>A finite number (integer or decimal) obeying <paramref name="rule"/>.</summary>
    public double? ReadNumber(IReadOnlyDictionary<string, object?> map, string key, string path, NumberRule rule)
    {
        var value = Get(map, key);
        if (value is null)
        {
            return null;
        }

        if (value is string text
            && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && double.IsFinite(number)
            && rule switch
            {
                NumberRule.Positive => number > 0,
                NumberRule.NonNegative => number >= 0,
                _ => true,
            })
        {
            return number;
        }

        var expected = rule switch
        {
            NumberRule.Positive => "must be a number > 0",
            NumberRule.NonNegative => "must be a number ≥ 0",
            _ => "must be a number",
        };
        Error(path, expected + " (got " + Describe(value) + ")");
        return null;
    }

    /// <summary>
    /// A duration written as a number of <paramref name="unit"/>s (fractional allowed) obeying <paramref name="rule"/>, read
    /// with the rules and messages of <see cref="ReadNumber"/> and typed here: the key keeps the unit the vmpooler format
    /// gives it, the option holds a <see cref="TimeSpan"/>. A number too large for a <see cref="TimeSpan"/> is an error.
    /// </summary>
    public TimeSpan? ReadDuration(IReadOnlyDictionary<string, object?> map, string key, string path, DurationUnit unit, NumberRule rule)
    {
        if (ReadNumber(map, key, path, rule) is not { } number)
        {
            return null;
        }

        var (perUnit, name) = unit switch
        {
            DurationUnit.Seconds => (TimeSpan.TicksPerSecond, "seconds"),
            DurationUnit.Minutes => (TimeSpan.TicksPerMinute, "minutes"),
            _ => (TimeSpan.TicksPerHour, "hours"),
        };

        // Rounded to the nearest tick (TimeSpan.FromMinutes truncates): 0.043 hours stays 0.043 when shown back in hours.
        var ticks = Math.Round(number * perUnit);
        if (Math.Abs(ticks) >= long.MaxValue)
        {
            var largest = Math.Floor((double)long.MaxValue / perUnit).ToString(CultureInfo.InvariantCulture);
            Error(path, "must be below " + largest + " " + name + " (got " + Describe(Get(map, key)) + ")");
            return null;
        }

        return TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>
    /// A duration written as a number of seconds (fractional allowed) obeying <paramref name="rule"/> and at most
    /// <paramref name="maxSeconds"/>.
    /// </summary>
    public TimeSpan? ReadSeconds(
        IReadOnlyDictionary<string, object?> map, string key, string path, NumberRule rule, double maxSeconds = MaxDurationSeconds)
    {
        var value = Get(map, key);
        if (value is null)
        {
            return null;
        }

        if (value is string text
            && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            && double.IsFinite(seconds)
            && seconds <= maxSeconds
            && rule switch
            {
                NumberRule.Positive => seconds > 0,
                NumberRule.NonNegative => seconds >= 0,
                _ => seconds >= -maxSeconds,
            })
        {
            // Rounded to the nearest tick, as ReadDuration does (FromSeconds truncates: 3.002 s would be a tick short).
            return TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
        }

        var expected = rule switch
        {
            NumberRule.Positive => "must be a number of seconds > 0",
            NumberRule.NonNegative => "must be a number of seconds ≥ 0",
            _ => "must be a number of seconds",
        };
        if (maxSeconds < MaxDurationSeconds)
        {
            expected += string.Create(CultureInfo.InvariantCulture, $" and ≤ {maxSeconds}");
        }

        Error(path, expected + " (got " + Describe(value) + ")");
        return null;
    }

    /// <summary>A percentage: a number from 0 to 100 (fractional allowed).</summary>
    public double? ReadPercent(IReadOnlyDictionary<string, object?> map, string key, string path)
    {
        var value = Get(map, key);
        if (value is null)
        {
            return null;
        }

        if (value is string text
            && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && number is >= 0 and <= 100)
        {
            return number;
        }

        Error(path, "must be a percentage from 0 to 100 (got " + Describe(value) + ")");
        return null;
    }

    /// <summary>A boolean: <c>true</c>/<c>false</c> (also YAML 1.1 <c>yes</c>/<c>no</c>/<c>on</c>/<c>off</c>), any case.</summary>
    public bool? ReadBool(IReadOnlyDictionary<string, object?> map, string key, string path)
    {
        var value = Get(map, key);
        if (value is null)
        {
            return null;
        }

        if (value is string text && ParseBool(text) is { } flag)
        {
            return flag;
        }

        Error(path, "must be true or false (got " + Describe(value) + ")");
        return null;
    }

    /// <summary>The boolean rule of <see cref="ReadBool"/> for a text already read: null when it is not a boolean.</summary>
    public static bool? ParseBool(string text) => text.Trim().ToUpperInvariant() switch
    {
        "TRUE" or "YES" or "ON" => true,
        "FALSE" or "NO" or "OFF" => false,
        _ => null,
    };

    /// <summary>A nested mapping.</summary>
    public Dictionary<string, object?>? ReadMapping(IReadOnlyDictionary<string, object?> map, string key, string path)
        => AsMapping(Get(map, key), path);

    /// <summary><paramref name="value"/> as a mapping; records an error when it is something else.</summary>
    public Dictionary<string, object?>? AsMapping(object? value, string path)
    {
        switch (value)
        {
            case null:
                return null;
            case Dictionary<string, object?> map:
                return map;
            default:
                Error(path, "must be a mapping (got " + Describe(value) + ")");
                return null;
        }
    }

    /// <summary>A list of strings; a single string counts as a one-item list.</summary>
    public List<string>? ReadStringList(IReadOnlyDictionary<string, object?> map, string key, string path)
    {
        var value = Get(map, key);
        switch (value)
        {
            case null:
                return null;
            case string text:
                return [text];
            case List<object?> items:
                var result = new List<string>(items.Count);
                for (var i = 0; i < items.Count; i++)
                {
                    if (items[i] is string item)
                    {
                        result.Add(item);
                    }
                    else
                    {
                        Error(Item(path, i), "must be a string (got " + Describe(items[i]) + ")");
                    }
                }

                return result;
            default:
                Error(path, "must be a string or a list of strings (got " + Describe(value) + ")");
                return null;
        }
    }

    /// <summary>A mapping of names to string values (e.g. extra settings passed on as they are).</summary>
    public List<KeyValuePair<string, string>>? ReadStringMap(IReadOnlyDictionary<string, object?> map, string key, string path)
    {
        var value = Get(map, key);
        switch (value)
        {
            case null:
                return null;
            case Dictionary<string, object?> entries:
                var result = new List<KeyValuePair<string, string>>(entries.Count);
                foreach (var (name, item) in entries)
                {
                    if (item is string text)
                    {
                        result.Add(new KeyValuePair<string, string>(name, text));
                    }
                    else
                    {
                        Error(Child(path, name), "must be a string (got " + Describe(item) + ")");
                    }
                }

                return result;
            default:
                Error(path, "must be a mapping of names to string values (got " + Describe(value) + ")");
                return null;
        }
    }

    private static object? Get(IReadOnlyDictionary<string, object?> map, string key)
        => map.TryGetValue(key, out var value) ? value : null;
}
