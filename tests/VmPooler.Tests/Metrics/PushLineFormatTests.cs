using System.Diagnostics.Metrics;
using System.Text;
using VmPooler.Core.Metrics;
using VmPooler.Telemetry;
using VmPooler.Telemetry.Push;

namespace VmPooler.Tests.Metrics;

public class PushLineFormatTests
{
    private static KeyValuePair<string, object?>[] Tags(params string[] values)
        => [.. values.Select((v, i) => new KeyValuePair<string, object?>("t" + i, v))];

    private static Instrument Find(VmPoolerMetrics metrics, string name)
    {
        Instrument? found = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (metrics.Owns(instrument) && instrument.Name == name)
                {
                    found = instrument;
                }
            },
        };
        listener.Start();
        return found.ShouldNotBeNull();
    }

    [Fact]
    public void Statsd_Counter_PrefixFamilyAndTagValuesWithC()
    {
        using var metrics = new VmPoolerMetrics();

        PushLineFormat.Statsd("vmpooler", Find(metrics, "checkout"), 1, Tags("success", "debian-12"))
            .ShouldBe("vmpooler.checkout.success.debian-12:1|c");
    }

    [Fact]
    public void Statsd_Gauge_G()
    {
        using var metrics = new VmPoolerMetrics();

        PushLineFormat.Statsd("vmpooler", Find(metrics, "ready"), 3, Tags("debian")).ShouldBe("vmpooler.ready.debian:3|g");
    }

    [Fact]
    public void Statsd_Duration_MillisecondsWithMs()
    {
        using var metrics = new VmPoolerMetrics();

        PushLineFormat.Statsd("p", Find(metrics, "clone"), 1.5, Tags("debian")).ShouldBe("p.clone.debian:1500|ms");
    }

    [Fact]
    public void Graphite_Counter_NameValueEpoch()
    {
        using var metrics = new VmPoolerMetrics();
        var at = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

        PushLineFormat.Graphite("vmpooler", Find(metrics, "delete"), 1, Tags("success"), at)
            .ShouldBe("vmpooler.delete.success 1 " + at.ToUnixTimeSeconds());
    }

    [Theory]
    [InlineData("user.name", "user_name")]
    [InlineData("a b:c|d/e", "a_b_c_d_e")]
    [InlineData("", "none")]
    public void Dotted_TagValueWithSeparators_MadeSafe(string value, string expected)
        => MetricNames.Dotted("vmpooler", "user", Tags(value)).ShouldBe("vmpooler.user." + expected);

    [Fact]
    public void Datagrams_ManyLines_PackedUnderTheLimitAndSplitOnNewlines()
    {
        var lines = Enumerable.Range(0, 200).Select(i => $"vmpooler.checkout.success.pool-{i}:1|c").ToList();

        var datagrams = StatsdExporter.Datagrams(lines).ToList();

        datagrams.Count.ShouldBeGreaterThan(1);
        datagrams.ShouldAllBe(d => d.Length <= StatsdExporter.MaxDatagram);
        datagrams.SelectMany(d => Encoding.UTF8.GetString(d).Split('\n')).ShouldBe(lines);
    }
}
