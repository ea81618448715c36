using System.Diagnostics.Metrics;
using System.Globalization;

namespace VmPooler.Telemetry.Push;

/// <summary>The statsd and Graphite plaintext line formats (spec §8.1: <c>&lt;prefix&gt;.&lt;name&gt;</c>).</summary>
internal static class PushLineFormat
{
    /// <summary>
    /// statsd: counters <c>name:1|c</c>, gauges <c>name:5|g</c>, durations <c>name:1234|ms</c> (histograms record seconds;
    /// statsd timers are milliseconds).
    /// </summary>
    public static string Statsd(string prefix, Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var name = MetricNames.Dotted(prefix, instrument.Name, tags);
        return instrument switch
        {
            Histogram<double> => name + ":" + MetricNames.Number(Math.Round(value * 1000, 3)) + "|ms",
            ObservableGauge<long> or ObservableGauge<double> => name + ":" + MetricNames.Number(value) + "|g",
            _ => name + ":" + MetricNames.Number(value) + "|c",
        };
    }

    /// <summary>Graphite plaintext: <c>name value epoch-seconds</c> (counters send their increment, as the original does).</summary>
    public static string Graphite(string prefix, Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, DateTimeOffset at)
        => MetricNames.Dotted(prefix, instrument.Name, tags) + " " + MetricNames.Number(value) + " "
            + at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}
