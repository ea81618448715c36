using VmPooler.Core.Inventory;
using VmPooler.Core.Metrics;
using VmPooler.Telemetry.Prometheus;

namespace VmPooler.Tests.Metrics;

public class PrometheusCollectorTests
{
    [Fact]
    public void Render_CheckoutsRecorded_CounterSumsPerLabelSet()
    {
        using var metrics = new VmPoolerMetrics();
        using var collector = new PrometheusCollector(metrics);

        metrics.Checkout("success", "debian");
        metrics.Checkout("success", "debian");
        metrics.Checkout("empty", "centos");

        var text = collector.Render("vmpooler", "vmpooler");
        text.ShouldContain("vmpooler_checkout{result=\"success\",pool=\"debian\",vmpooler_instance=\"vmpooler\"} 2\n");
        text.ShouldContain("vmpooler_checkout{result=\"empty\",pool=\"centos\",vmpooler_instance=\"vmpooler\"} 1\n");
        text.ShouldContain("# TYPE vmpooler_checkout counter\n");
    }

    [Fact]
    public void Render_PoolCountsSet_GaugesPerPoolShowLatestValues()
    {
        using var metrics = new VmPoolerMetrics();
        using var collector = new PrometheusCollector(metrics);

        metrics.SetPoolCounts("debian", 5, new PoolCounts(Pending: 1, Ready: 3, Running: 2, Completed: 0));
        metrics.SetPoolCounts("debian", 5, new PoolCounts(Pending: 0, Ready: 4, Running: 2, Completed: 1));

        var text = collector.Render("vp", "i");
        text.ShouldContain("# TYPE vp_ready gauge\n");
        text.ShouldContain("vp_ready{pool=\"debian\",vmpooler_instance=\"i\"} 4\n");
        text.ShouldContain("vp_pending{pool=\"debian\",vmpooler_instance=\"i\"} 0\n");
        text.ShouldContain("vp_running{pool=\"debian\",vmpooler_instance=\"i\"} 2\n");
        text.ShouldContain("vp_completed{pool=\"debian\",vmpooler_instance=\"i\"} 1\n");
        text.ShouldContain("vp_size{pool=\"debian\",vmpooler_instance=\"i\"} 5\n");
    }

    [Fact]
    public void Render_Durations_HistogramWithTheOriginalsBuckets()
    {
        using var metrics = new VmPoolerMetrics();
        using var collector = new PrometheusCollector(metrics);

        metrics.TimeToReady("debian", 45);
        metrics.TimeToReady("debian", 2000);

        var text = collector.Render("vmpooler", "x");
        text.ShouldContain("vmpooler_time_to_ready_state_bucket{pool=\"debian\",vmpooler_instance=\"x\",le=\"30\"} 0\n");
        text.ShouldContain("vmpooler_time_to_ready_state_bucket{pool=\"debian\",vmpooler_instance=\"x\",le=\"60\"} 1\n");
        text.ShouldContain("vmpooler_time_to_ready_state_bucket{pool=\"debian\",vmpooler_instance=\"x\",le=\"1600\"} 1\n");
        text.ShouldContain("vmpooler_time_to_ready_state_bucket{pool=\"debian\",vmpooler_instance=\"x\",le=\"+Inf\"} 2\n");
        text.ShouldContain("vmpooler_time_to_ready_state_sum{pool=\"debian\",vmpooler_instance=\"x\"} 2045\n");
        text.ShouldContain("vmpooler_time_to_ready_state_count{pool=\"debian\",vmpooler_instance=\"x\"} 2\n");
    }

    [Fact]
    public void Render_TwoApplicationsInOneProcess_EachSeesOnlyItsOwn()
    {
        using var first = new VmPoolerMetrics();
        using var second = new VmPoolerMetrics();
        using var collector = new PrometheusCollector(first);

        second.Checkout("success", "other");
        first.Checkout("success", "mine");

        var text = collector.Render("vmpooler", "vmpooler");
        text.ShouldContain("pool=\"mine\"");
        text.ShouldNotContain("pool=\"other\"");
    }
}
