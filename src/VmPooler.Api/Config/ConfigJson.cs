using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace VmPooler.Api.Config;

/// <summary>
/// Turns the raw configuration tree (<see cref="Core.Configuration.VmPoolerOptions.Raw"/>: dictionaries, lists,
/// strings) into JSON for <c>/config</c> and <c>/full_config</c>, with secrets redacted. Scalars get the type YAML gives
/// a plain scalar (<c>3</c> a number, <c>true</c>/<c>yes</c> a boolean), as the original's parsed configuration has them;
/// the tree does not keep quotes, so a quoted <c>'3'</c> also comes out as a number.
/// </summary>
internal static partial class ConfigJson
{
    /// <summary>What a secret's value is replaced with; the key stays so users can see the setting is there.</summary>
    public const string Redacted = "<redacted>";

    /// <summary>Parts of a key (lower case, <c>-</c> read as <c>_</c>) that mark its value as a secret.</summary>
    private static readonly string[] SecretKeyParts =
    [
        "password", "passwd", "passphrase", "secret", "token", "api_key", "apikey", "private_key", "key_file",
        "keyfile", "ssh_key", "credential",
    ];

    /// <summary>The JSON for a raw configuration value: mappings and lists recursively, secrets redacted.</summary>
    public static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string text => Scalar(RedactUrl(text)),
        IReadOnlyDictionary<string, object?> map => Mapping(map),
        IEnumerable<object?> list => new JsonArray([.. list.Select(ToJson)]),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    /// <summary>A mapping; values of secret keys (see <see cref="IsSecretKey"/>) become <see cref="Redacted"/> unless null.</summary>
    public static JsonObject Mapping(IReadOnlyDictionary<string, object?> map)
    {
        var json = new JsonObject();
        foreach (var (key, value) in map)
        {
            json[key] = value is not null && IsSecretKey(key) ? JsonValue.Create(Redacted) : ToJson(value);
        }

        return json;
    }

    /// <summary>True for keys that name a secret: passwords, secrets, tokens, API keys, key files, credentials.</summary>
    public static bool IsSecretKey(string key)
    {
        var normal = key.ToLowerInvariant().Replace('-', '_');
        return normal == "pass" || SecretKeyParts.Any(part => normal.Contains(part, StringComparison.Ordinal));
    }

    /// <summary>
    /// Hides the password in a URL's user information (<c>redis://user:pw@host</c> → <c>redis://user:&lt;redacted&gt;@host</c>;
    /// for <c>redis://pw@host</c>, where the lone part is the password, all of it).
    /// </summary>
    public static string RedactUrl(string value)
    {
        var redacted = UrlPassword().Replace(value, "${scheme}${user}:" + Redacted + "@");
        return RedisUrlPassword().Replace(redacted, "${scheme}" + Redacted + "@");
    }

    /// <summary>A plain YAML scalar typed as YAML 1.1 would (integer, float, boolean), otherwise a string.</summary>
    public static JsonValue Scalar(string text)
    {
        if (Integer().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (Float().IsMatch(text)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && double.IsFinite(number))
        {
            return JsonValue.Create(number);
        }

        return text.ToUpperInvariant() switch
        {
            "TRUE" or "YES" or "ON" => JsonValue.Create(true),
            "FALSE" or "NO" or "OFF" => JsonValue.Create(false),
            _ => JsonValue.Create(text),
        };
    }

    [GeneratedRegex(@"\A[-+]?[0-9]+\z")]
    private static partial Regex Integer();

    [GeneratedRegex(@"\A[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\z")]
    private static partial Regex Float();

    [GeneratedRegex(@"(?<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?<user>[^:@/\s]*):[^@/\s]*@")]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"(?<scheme>\brediss?://)[^:@/\s]+@", RegexOptions.IgnoreCase)]
    private static partial Regex RedisUrlPassword();
}
