using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace VmPooler.Api.Http;

/// <summary>The input checks of spec §2.1, with its messages. Each returns null when the value is acceptable.</summary>
internal static partial class InputValidator
{
    public const int MaxHostnameLength = 253;
    public const int MaxPoolNameLength = 100;
    public const int MaxVmCount = 100;
    public const int MaxDiskSize = 2048;
    public const int MaxTagKeyLength = 50;
    public const int MaxTagValueLength = 255;

    public static string? Hostname(string? hostname)
    {
        if (string.IsNullOrEmpty(hostname))
        {
            return "Hostname is required";
        }

        if (hostname.Length > MaxHostnameLength)
        {
            return "Hostname too long";
        }

        return HostnamePattern().IsMatch(hostname) ? null : "Invalid hostname format";
    }

    public static string? PoolName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "Pool name is required";
        }

        if (name.Length > MaxPoolNameLength)
        {
            return "Pool name too long";
        }

        return PoolNamePattern().IsMatch(name) ? null : "Invalid pool name format";
    }

    /// <summary>A VM count given as a JSON number or string: digits only, 1..100.</summary>
    public static string? VmCount(JsonNode? value, out int count)
    {
        count = 0;
        string? text = value?.GetValueKind() switch
        {
            null or JsonValueKind.Null => null,
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            _ => "not a number",
        };
        if (string.IsNullOrEmpty(text))
        {
            return "VM count is required";
        }

        if (!DigitsPattern().IsMatch(text) || !int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out count))
        {
            return text.Length > 9 && DigitsPattern().IsMatch(text) ? "VM count must be at most 100" : "VM count must be a valid integer";
        }

        if (count < 1)
        {
            return "VM count must be at least 1";
        }

        return count > MaxVmCount ? "VM count must be at most 100" : null;
    }

    /// <summary>
    /// A whole number given as a JSON number or as a string of digits (how the original's clients send counts and
    /// sizes); false for anything else, including fractions and signed strings.
    /// </summary>
    public static bool TryWholeNumber(JsonNode? value, out long number)
    {
        number = 0;
        return value?.GetValueKind() switch
        {
            JsonValueKind.Number => value.GetValue<JsonElement>().TryGetInt64(out number),
            JsonValueKind.String => long.TryParse(value.GetValue<string>(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out number),
            _ => false,
        };
    }

    /// <summary>A disk size in GB from a path segment: digits only, 1..2048.</summary>
    public static string? DiskSize(string? text, out int size)
    {
        size = 0;
        if (string.IsNullOrEmpty(text))
        {
            return "Disk size is required";
        }

        if (!DigitsPattern().IsMatch(text))
        {
            return "Disk size must be a valid integer";
        }

        if (text.Length > 9 || !int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out size))
        {
            return "Disk size must be at most 2048";
        }

        if (size < 1)
        {
            return "Disk size must be at least 1";
        }

        return size > MaxDiskSize ? "Disk size must be at most 2048" : null;
    }

    public static string? TagKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "Tag key is required";
        }

        if (key.Length > MaxTagKeyLength)
        {
            return "Tag key too long";
        }

        return TagKeyPattern().IsMatch(key) ? null : "Invalid tag key format";
    }

    public static string? TagValue(string value)
    {
        if (value.Length > MaxTagValueLength)
        {
            return "Tag value too long";
        }

        return TagValuePattern().IsMatch(value) ? null : "Tag value contains invalid characters";
    }

    /// <summary>Keeps only the part of a hostname before the first dot (an FQDN names the same VM).</summary>
    public static string ShortName(string hostname)
    {
        var dot = hostname.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? hostname : hostname[..dot];
    }

    [GeneratedRegex(@"\A(?=.{1,253}\z)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?))*\z")]
    private static partial Regex HostnamePattern();

    [GeneratedRegex(@"\A[A-Za-z0-9_-]+\z")]
    private static partial Regex PoolNamePattern();

    [GeneratedRegex(@"\A[0-9]+\z")]
    private static partial Regex DigitsPattern();

    [GeneratedRegex(@"\A[A-Za-z0-9_.-]+\z")]
    private static partial Regex TagKeyPattern();

    // Upstream 3.8.1 allows ASCII word characters, whitespace and - . @ : / only, which rejects what beaker-vmpooler sends
    // ("roles": "agent, master") and URLs with a query: commas, '=', '+', '~', '%', '?' and '#' are allowed as well.
    // Shell and markup metacharacters (; & < > " ' $ ` | \ and brackets) stay out.
    [GeneratedRegex(@"\A[A-Za-z0-9_ \t\r\n\f\v\-.@:/,=+~%?#]*\z")]
    private static partial Regex TagValuePattern();
}
