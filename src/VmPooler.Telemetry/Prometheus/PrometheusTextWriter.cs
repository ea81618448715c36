using System.Text;

namespace VmPooler.Telemetry.Prometheus;

/// <summary>One metric family at scrape time.</summary>
internal sealed record FamilySnapshot(string Family, string? Help, PrometheusType Type, IReadOnlyList<SeriesSnapshot> Series, IReadOnlyList<double>? Bounds = null);

/// <summary>One labelled series: a value (counter, gauge) or cumulative-free bucket counts, sum and count (histogram).</summary>
internal sealed record SeriesSnapshot(IReadOnlyList<KeyValuePair<string, string>> Labels, double Value, IReadOnlyList<long>? BucketCounts = null, double Sum = 0, long Count = 0);

internal enum PrometheusType
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>
/// Writes the Prometheus text exposition format 0.0.4: <c># HELP</c> and <c># TYPE</c> per family, one line per sample,
/// histograms as cumulative <c>_bucket{le=…}</c> lines plus <c>_sum</c> and <c>_count</c>, with the format's escaping.
/// </summary>
/// <remarks>
/// Our own writer: the NuGet mirror this project builds from has no <c>OpenTelemetry.Exporter.Prometheus.AspNetCore</c>,
/// and the format is small and stable.
/// </remarks>
internal static class PrometheusTextWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Writes every family as <c>&lt;metricPrefix&gt;_&lt;family&gt;</c>, each sample also labelled <c>vmpooler_instance=&lt;instance&gt;</c>.</summary>
    public static void Write(StringBuilder output, string metricPrefix, string instance, IEnumerable<FamilySnapshot> families)
    {
        var instanceLabel = new KeyValuePair<string, string>("vmpooler_instance", instance);
        foreach (var family in families)
        {
            var name = MetricName(metricPrefix.Length == 0 ? family.Family : metricPrefix + "_" + family.Family);
            if (family.Help is { Length: > 0 } help)
            {
                output.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
            }

            output.Append("# TYPE ").Append(name).Append(' ').Append(family.Type switch
            {
                PrometheusType.Counter => "counter",
                PrometheusType.Gauge => "gauge",
                _ => "histogram",
            }).Append('\n');

            foreach (var series in family.Series)
            {
                List<KeyValuePair<string, string>> labels = [.. series.Labels, instanceLabel];
                if (family.Type != PrometheusType.Histogram)
                {
                    Sample(output, name, labels, series.Value);
                    continue;
                }

                var bounds = family.Bounds ?? [];
                long cumulative = 0;
                for (var i = 0; i < bounds.Count; i++)
                {
                    cumulative += series.BucketCounts is { } counts && i < counts.Count ? counts[i] : 0;
                    Sample(output, name + "_bucket", [.. labels, new("le", MetricNames.Number(bounds[i]))], cumulative);
                }

                Sample(output, name + "_bucket", [.. labels, new("le", "+Inf")], series.Count);
                Sample(output, name + "_sum", labels, series.Sum);
                Sample(output, name + "_count", labels, series.Count);
            }
        }
    }

    /// <summary>A valid metric name: characters outside <c>[a-zA-Z0-9_:]</c> become '_', and a leading digit gets a '_'.</summary>
    public static string MetricName(string name) => Sanitize(name, allowColon: true);

    /// <summary>A valid label name: characters outside <c>[a-zA-Z0-9_]</c> become '_', and a leading digit gets a '_'.</summary>
    public static string LabelName(string name) => Sanitize(name, allowColon: false);

    /// <summary>Label values escape backslash, double quote and line feed.</summary>
    public static string EscapeLabelValue(string value)
        => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>HELP text escapes backslash and line feed.</summary>
    public static string EscapeHelp(string value)
        => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static void Sample(StringBuilder output, string name, IReadOnlyList<KeyValuePair<string, string>> labels, double value)
    {
        output.Append(name);
        if (labels.Count > 0)
        {
            output.Append('{');
            for (var i = 0; i < labels.Count; i++)
            {
                if (i > 0)
                {
                    output.Append(',');
                }

                output.Append(LabelName(labels[i].Key)).Append("=\"").Append(EscapeLabelValue(labels[i].Value)).Append('"');
            }

            output.Append('}');
        }

        output.Append(' ').Append(MetricNames.Number(value)).Append('\n');
    }

    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        var builder = new StringBuilder(name.Length + 1);
        if (char.IsAsciiDigit(name[0]))
        {
            builder.Append('_');
        }

        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        }

        return builder.ToString();
    }
}
