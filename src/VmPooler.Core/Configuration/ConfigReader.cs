using System.Globalization;

namespace VmPooler.Core.Configuration;

/// <summary>How a numeric option is bounded.</summary>
internal enum NumberRule
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
internal sealed class ConfigReader
{
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

        var rule = max == int.MaxValue
            ? string.Create(CultureInfo.InvariantCulture, $"must be an integer ≥ {min}")
            : string.Create(CultureInfo.InvariantCulture, $"must be an integer between {min} and {max}");
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

    /// <summary>A boolean: <c>true</c>/<c>false</c> (also YAML 1.1 <c>yes</c>/<c>no</c>/<c>on</c>/<c>off</c>), any case.</summary>
    public bool? ReadBool(IReadOnlyDictionary<string, object?> map, string key, string path)
    {
        var value = Get(map, key);
        if (value is null)
        {
            return null;
        }

        if (value is string text)
        {
            switch (text.Trim().ToUpperInvariant())
            {
                case "TRUE" or "YES" or "ON":
                    return true;
                case "FALSE" or "NO" or "OFF":
                    return false;
            }
        }

        Error(path, "must be true or false (got " + Describe(value) + ")");
        return null;
    }

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

    private static object? Get(IReadOnlyDictionary<string, object?> map, string key)
        => map.TryGetValue(key, out var value) ? value : null;
}
