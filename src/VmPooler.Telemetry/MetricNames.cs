using System.Globalization;
using System.Text;

namespace VmPooler.Telemetry;

/// <summary>
/// Maps a measurement (instrument family + tag values in recorded order) onto the original's names (spec §8.1):
/// statsd/Graphite <c>&lt;prefix&gt;.&lt;family&gt;.&lt;value&gt;…</c>.
/// </summary>
internal static class MetricNames
{
    /// <summary><c>prefix.family.v1.v2</c>; each tag value made safe for a dotted path (dots, spaces, ':' '|' '/' → '_').</summary>
    public static string Dotted(string prefix, string family, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var builder = new StringBuilder(prefix.Length + family.Length + (tags.Length * 16));
        if (prefix.Length > 0)
        {
            builder.Append(prefix).Append('.');
        }

        builder.Append(family);
        foreach (var tag in tags)
        {
            builder.Append('.');
            AppendPathSegment(builder, TagValue(tag.Value));
        }

        return builder.ToString();
    }

    /// <summary>A tag value as text (invariant culture; null → empty).</summary>
    public static string TagValue(object? value) => value switch
    {
        null => "",
        string text => text,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A number as statsd/Graphite/Prometheus expect it: invariant, shortest round-trip form.</summary>
    public static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static void AppendPathSegment(StringBuilder builder, string value)
    {
        if (value.Length == 0)
        {
            builder.Append("none");
            return;
        }

        foreach (var c in value)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }
    }
}
