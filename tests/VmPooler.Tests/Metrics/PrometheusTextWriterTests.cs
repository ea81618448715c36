using System.Text;
using VmPooler.Telemetry.Prometheus;

namespace VmPooler.Tests.Metrics;

public class PrometheusTextWriterTests
{
    private static string Write(params FamilySnapshot[] families)
    {
        var output = new StringBuilder();
        PrometheusTextWriter.Write(output, "vmpooler", "inst", families);
        return output.ToString();
    }

    [Fact]
    public void Write_Counter_HelpTypeAndSampleWithInstanceLabel()
    {
        var text = Write(new FamilySnapshot("checkout", "Checkouts.", PrometheusType.Counter, [new([new("result", "success"), new("pool", "debian")], 3)]));

        text.ShouldBe(
            "# HELP vmpooler_checkout Checkouts.\n" +
            "# TYPE vmpooler_checkout counter\n" +
            "vmpooler_checkout{result=\"success\",pool=\"debian\",vmpooler_instance=\"inst\"} 3\n");
    }

    [Fact]
    public void Write_Gauge_TypeGaugeAndDecimalValue()
    {
        var text = Write(new FamilySnapshot("ready", null, PrometheusType.Gauge, [new([new("pool", "a")], 2.5)]));

        text.ShouldBe("# TYPE vmpooler_ready gauge\nvmpooler_ready{pool=\"a\",vmpooler_instance=\"inst\"} 2.5\n");
    }

    [Fact]
    public void Write_Histogram_CumulativeBucketsInfSumAndCount()
    {
        var text = Write(new FamilySnapshot(
            "clone", "Clone seconds.", PrometheusType.Histogram, [new([new("pool", "a")], 0, [1, 2, 0], 37.5, 4)], [10, 20, 30]));

        text.ShouldBe(
            "# HELP vmpooler_clone Clone seconds.\n" +
            "# TYPE vmpooler_clone histogram\n" +
            "vmpooler_clone_bucket{pool=\"a\",vmpooler_instance=\"inst\",le=\"10\"} 1\n" +
            "vmpooler_clone_bucket{pool=\"a\",vmpooler_instance=\"inst\",le=\"20\"} 3\n" +
            "vmpooler_clone_bucket{pool=\"a\",vmpooler_instance=\"inst\",le=\"30\"} 3\n" +
            "vmpooler_clone_bucket{pool=\"a\",vmpooler_instance=\"inst\",le=\"+Inf\"} 4\n" +
            "vmpooler_clone_sum{pool=\"a\",vmpooler_instance=\"inst\"} 37.5\n" +
            "vmpooler_clone_count{pool=\"a\",vmpooler_instance=\"inst\"} 4\n");
    }

    [Fact]
    public void Write_SpecialCharacters_LabelValuesAndHelpEscaped()
    {
        var text = Write(new FamilySnapshot("x", "a \\ b\nc", PrometheusType.Counter, [new([new("path", "say \"hi\"\\n\nnext")], 1)]));

        text.ShouldContain("# HELP vmpooler_x a \\\\ b\\nc\n");
        text.ShouldContain("vmpooler_x{path=\"say \\\"hi\\\"\\\\n\\nnext\",vmpooler_instance=\"inst\"} 1\n");
    }

    [Theory]
    [InlineData("vmpooler_ready", "vmpooler_ready")]
    [InlineData("vm-pooler.ready", "vm_pooler_ready")]
    [InlineData("1abc", "_1abc")]
    [InlineData("a:b", "a:b")]
    public void MetricName_InvalidCharacters_Replaced(string name, string expected)
        => PrometheusTextWriter.MetricName(name).ShouldBe(expected);

    [Fact]
    public void LabelName_Colon_Replaced() => PrometheusTextWriter.LabelName("a:b-c").ShouldBe("a_b_c");

    [Fact]
    public void Write_SpecialValues_InfAndNaNSpelledAsPrometheusDoes()
    {
        var text = Write(new FamilySnapshot("g", null, PrometheusType.Gauge, [new([new("k", "inf")], double.PositiveInfinity), new([new("k", "nan")], double.NaN)]));

        text.ShouldContain("vmpooler_g{k=\"inf\",vmpooler_instance=\"inst\"} +Inf\n");
        text.ShouldContain("vmpooler_g{k=\"nan\",vmpooler_instance=\"inst\"} NaN\n");
    }
}
