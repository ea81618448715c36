using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VmPooler.Core.Configuration;

/// <summary>
/// The vmpooler YAML format as a neutral tree (spec §5.1): mappings become insertion-ordered
/// <see cref="Dictionary{TKey,TValue}"/> of <c>string → object?</c> with a leading ':' stripped from every key
/// (Ruby symbol keys such as <c>:pools:</c>), sequences become <see cref="List{T}"/> of <c>object?</c>, scalars
/// stay strings (null for <c>~</c>, <c>null</c> and empty plain scalars). Anchors, aliases and <c>&lt;&lt;</c> merge
/// keys are resolved. Also the deep merge used for <c>extra_config</c>.
/// </summary>
internal static partial class YamlTree
{
    /// <summary>
    /// Parses <paramref name="yaml"/> (the first document only). Returns null and adds messages to
    /// <paramref name="errors"/> (each starting with <paramref name="label"/>) when the text is not valid YAML or
    /// its top level is not a mapping. An empty document is an empty mapping.
    /// </summary>
    public static Dictionary<string, object?>? Parse(string yaml, string label, List<string> errors)
    {
        if (!TryLoad(yaml, out var stream, out var error))
        {
            // Retry with the symbol keys quoted (see QuoteSymbolKeys); report the error of the text as written.
            var quoted = QuoteSymbolKeys(yaml);
            if (string.Equals(quoted, yaml, StringComparison.Ordinal) || !TryLoad(quoted, out stream, out _))
            {
                errors.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{label}: invalid YAML at line {error.Start.Line}, column {error.Start.Column}: {StripMark(error)}"));
                return null;
            }
        }

        if (stream.Documents.Count == 0)
        {
            return new Dictionary<string, object?>(StringComparer.Ordinal);
        }

        var root = stream.Documents[0].RootNode;
        var before = errors.Count;
        var tree = Convert(root, label, errors);
        if (errors.Count > before)
        {
            return null;
        }

        return tree switch
        {
            Dictionary<string, object?> map => map,
            null => new Dictionary<string, object?>(StringComparer.Ordinal),
            _ => Fail(errors, $"{label}: the configuration must be a YAML mapping (of sections such as :config: and :pools:)"),
        };
    }

    /// <summary>
    /// Deep-merges <paramref name="extra"/> into <paramref name="main"/> (spec §5.1 <c>extra_config</c>): nested
    /// mappings merge recursively, sequences are unioned (items already present are dropped; mappings with a
    /// <c>name</c> key — pools — compare by name), and scalars already present in <paramref name="main"/> win
    /// (a null there is filled in).
    /// </summary>
    public static void Merge(Dictionary<string, object?> main, Dictionary<string, object?> extra)
    {
        foreach (var (key, value) in extra)
        {
            if (!main.TryGetValue(key, out var existing) || existing is null)
            {
                main[key] = value;
            }
            else if (existing is Dictionary<string, object?> existingMap && value is Dictionary<string, object?> extraMap)
            {
                Merge(existingMap, extraMap);
            }
            else if (existing is List<object?> existingList && value is List<object?> extraList)
            {
                foreach (var item in extraList)
                {
                    if (!existingList.Exists(present => SameItem(present, item)))
                    {
                        existingList.Add(item);
                    }
                }
            }
        }
    }

    /// <summary>Structural equality of two tree values.</summary>
    public static bool DeepEquals(object? left, object? right)
    {
        switch (left, right)
        {
            case (null, null):
                return true;
            case (string a, string b):
                return string.Equals(a, b, StringComparison.Ordinal);
            case (List<object?> a, List<object?> b):
                if (a.Count != b.Count)
                {
                    return false;
                }

                for (var i = 0; i < a.Count; i++)
                {
                    if (!DeepEquals(a[i], b[i]))
                    {
                        return false;
                    }
                }

                return true;
            case (Dictionary<string, object?> a, Dictionary<string, object?> b):
                if (a.Count != b.Count)
                {
                    return false;
                }

                foreach (var (key, value) in a)
                {
                    if (!b.TryGetValue(key, out var other) || !DeepEquals(value, other))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Works around a YamlDotNet scanner bug: a plain scalar starting with ':' right after a flow collection
    /// (<c>allowed_tags: [a, b]</c> followed by a <c>:pools:</c> line) is mis-scanned and the document rejected.
    /// Quotes every Ruby-symbol key at the start of a line (<c>:pools:</c> → <c>':pools':</c>, the same key once
    /// the colon is stripped), leaving block scalar text alone. Only used when the document as written fails to load.
    /// </summary>
    internal static string QuoteSymbolKeys(string yaml)
    {
        var lines = yaml.Split('\n');
        var blockIndent = -1;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var indent = line.Length - line.TrimStart(' ').Length;
            if (blockIndent >= 0)
            {
                if (line.Trim().Length == 0 || indent > blockIndent)
                {
                    continue;
                }

                blockIndent = -1;
            }

            lines[i] = SymbolKey().Replace(line, "$1'$2'$3");
            if (BlockScalarStart().IsMatch(line))
            {
                blockIndent = indent;
            }
        }

        return string.Join('\n', lines);
    }

    /// <summary>A mapping key without the Ruby-symbol colon: <c>:pools</c> → <c>pools</c>.</summary>
    public static string PlainKey(string key) => key.Length > 1 && key[0] == ':' ? key[1..] : key;

    private static bool SameItem(object? present, object? candidate)
        => present is Dictionary<string, object?> a && candidate is Dictionary<string, object?> b
           && a.TryGetValue("name", out var nameA) && nameA is string
           && b.TryGetValue("name", out var nameB) && nameB is string
            ? string.Equals((string)nameA, (string)nameB, StringComparison.Ordinal)
            : DeepEquals(present, candidate);

    private static object? Convert(YamlNode node, string label, List<string> errors)
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                return IsNull(scalar) ? null : scalar.Value ?? "";
            case YamlSequenceNode sequence:
                var list = new List<object?>(sequence.Children.Count);
                foreach (var child in sequence.Children)
                {
                    list.Add(Convert(child, label, errors));
                }

                return list;
            case YamlMappingNode mapping:
                return ConvertMapping(mapping, label, errors);
            default:
                return null;
        }
    }

    /// <summary>A mapping; <c>&lt;&lt;</c> merge keys supply the keys the mapping does not set itself.</summary>
    private static Dictionary<string, object?> ConvertMapping(YamlMappingNode mapping, string label, List<string> errors)
    {
        var map = new Dictionary<string, object?>(mapping.Children.Count, StringComparer.Ordinal);
        var merged = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } rawKey } keyScalar)
            {
                errors.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{label}: line {keyNode.Start.Line}: mapping keys must be plain strings"));
                continue;
            }

            var value = Convert(valueNode, label, errors);
            if (rawKey == "<<" && keyScalar.Style == ScalarStyle.Plain)
            {
                var sources = value switch
                {
                    Dictionary<string, object?> single => [single],
                    List<object?> list when list.TrueForAll(item => item is Dictionary<string, object?>) =>
                        list.ConvertAll(item => (Dictionary<string, object?>)item!),
                    _ => null,
                };
                if (sources is null)
                {
                    errors.Add(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{label}: line {keyNode.Start.Line}: a '<<' merge key needs a mapping or a list of mappings"));
                    continue;
                }

                foreach (var (sourceKey, sourceValue) in sources.SelectMany(source => source))
                {
                    if (map.TryAdd(sourceKey, sourceValue))
                    {
                        merged.Add(sourceKey);
                    }
                }

                continue;
            }

            var key = PlainKey(rawKey);
            if (map.TryAdd(key, value))
            {
                continue;
            }

            if (merged.Remove(key))
            {
                map[key] = value;
                continue;
            }

            errors.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{label}: line {keyNode.Start.Line}: duplicate key \"{key}\" (a leading ':' does not make a different key)"));
        }

        return map;
    }

    private static bool TryLoad(string yaml, out YamlStream stream, [NotNullWhen(false)] out YamlException? error)
    {
        stream = new YamlStream();
        try
        {
            using var reader = new StringReader(yaml);
            stream.Load(reader);
            error = null;
            return true;
        }
        catch (YamlException ex)
        {
            error = ex;
            return false;
        }
    }

    private static bool IsNull(YamlScalarNode scalar)
        => scalar.Style == ScalarStyle.Plain
           && (scalar.Value is null or "" or "~" or "null" or "Null" or "NULL");

    private static string StripMark(YamlException ex)
    {
        var match = MarkPrefix().Match(ex.Message);
        return match.Success ? ex.Message[match.Length..] : ex.Message;
    }

    private static Dictionary<string, object?>? Fail(List<string> errors, string message)
    {
        errors.Add(message);
        return null;
    }

    [GeneratedRegex(@"^(\s*(?:-\s+)*)(:[^\s'""#,\[\]{}:|>&*!%@`][^\s:]*)(:(?:\s|$))", RegexOptions.CultureInvariant)]
    private static partial Regex SymbolKey();

    [GeneratedRegex(@"(?:^|[\s:-])[|>][-+0-9]*\s*(?:#.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex BlockScalarStart();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ", RegexOptions.CultureInvariant)]
    private static partial Regex MarkPrefix();
}
