using VmPooler.Core.Configuration;

namespace VmPooler.Tests.Metrics;

public class MetricsConfigTests
{
    private const string Pool = ":pools:\n  - name: a\n    size: 1\n";

    private static VmPoolerOptions Load(string yaml) => ConfigLoader.LoadYaml(yaml + "\n" + Pool, new Dictionary<string, string?>(), "test.yaml");

    [Fact]
    public void LoadYaml_NoMetricsSections_NothingEnabled()
    {
        var metrics = Load("---").Metrics;

        metrics.Statsd.ShouldBeNull();
        metrics.Graphite.ShouldBeNull();
        metrics.Prometheus.ShouldBeNull();
        metrics.Tracing.Enabled.ShouldBeFalse();
        metrics.AnyExporter.ShouldBeFalse();
    }

    [Fact]
    public void LoadYaml_OriginalKeys_DefaultsFilled()
    {
        var metrics = Load(":statsd:\n  server: stats\n:graphite:\n  server: graph\n:prometheus:\n  prefix: inst\n:tracing:\n  enabled: 'false'\n  jaeger_host: http://j:14268/api/traces").Metrics;

        metrics.Statsd.ShouldBe(new PushMetricsOptions { Server = "stats", Port = 8125, Prefix = "vmpooler", Interval = TimeSpan.FromSeconds(10) });
        metrics.Graphite.ShouldBe(new PushMetricsOptions { Server = "graph", Port = 2003, Prefix = "vmpooler", Interval = TimeSpan.FromSeconds(10) });
        metrics.Prometheus.ShouldBe(new PrometheusOptions { Instance = "inst", MetricPrefix = "vmpooler", Endpoint = "/prometheus" });
        metrics.Tracing.Enabled.ShouldBeFalse();
        metrics.Tracing.JaegerHost.ShouldBe("http://j:14268/api/traces");
    }

    [Fact]
    public void LoadYaml_AllSet_ValuesTyped()
    {
        var metrics = Load("""
            :statsd:
              server: ' stats '
              port: 9125
              prefix: vmp.prod
              interval: 0.5
            prometheus:
              prometheus_prefix: vmp
              prometheus_endpoint: /metrics/
            :tracing:
              enabled: true
              otlp_endpoint: http://collector:4318
              otlp_protocol: grpc
              otlp_metrics: yes
              otlp_metrics_interval: 15
              service_name: pooler
            """).Metrics;

        metrics.Statsd.ShouldBe(new PushMetricsOptions { Server = "stats", Port = 9125, Prefix = "vmp.prod", Interval = TimeSpan.FromSeconds(0.5) });
        metrics.Prometheus!.MetricPrefix.ShouldBe("vmp");
        metrics.Prometheus.Endpoint.ShouldBe("/metrics");
        metrics.Tracing.ShouldBe(new TracingOptions
        {
            Enabled = true,
            OtlpEndpoint = new Uri("http://collector:4318"),
            OtlpProtocol = "grpc",
            OtlpMetrics = true,
            OtlpMetricsInterval = TimeSpan.FromSeconds(15),
            ServiceName = "pooler",
        });
        metrics.AnyExporter.ShouldBeTrue();
    }

    [Theory]
    [InlineData(":statsd:\n  server: s\n  port: 70000", "statsd.port: must be an integer between 1 and 65535")]
    [InlineData(":graphite:\n  server: s\n  port: two", "graphite.port: must be an integer between 1 and 65535")]
    [InlineData(":graphite:\n  port: 2003", "graphite.server: is required")]
    [InlineData(":statsd:\n  server: s\n  prefix: 'has space'", "statsd.prefix: must be letters, digits")]
    [InlineData(":statsd:\n  server: s\n  prefix: 'trailing.'", "statsd.prefix: must be letters, digits")]
    [InlineData(":statsd:\n  server: s\n  interval: 0", "statsd.interval: must be a number > 0")]
    [InlineData(":prometheus:\n  prometheus_prefix: 'vm-pooler'", "prometheus.prometheus_prefix: must be a Prometheus metric name")]
    [InlineData(":prometheus:\n  prometheus_endpoint: metrics", "prometheus.prometheus_endpoint: must be a path starting with '/'")]
    [InlineData(":prometheus:\n  prometheus_endpoint: '/api/v3/vm'", "prometheus.prometheus_endpoint: must not be one of the API's own paths")]
    [InlineData(":prometheus:\n  prometheus_endpoint: '/healthz'", "prometheus.prometheus_endpoint: must not be one of the API's own paths")]
    [InlineData(":prometheus: 5", "prometheus: must be a mapping")]
    [InlineData(":tracing:\n  enabled: maybe", "tracing.enabled: must be true or false")]
    [InlineData(":tracing:\n  otlp_endpoint: 'collector:4318'", "tracing.otlp_endpoint: must be an absolute http:// or https:// URL")]
    [InlineData(":tracing:\n  otlp_protocol: http/json", "tracing.otlp_protocol: must be http/protobuf or grpc")]
    [InlineData(":tracing:\n  otlp_metrics_interval: -1", "tracing.otlp_metrics_interval: must be a number > 0")]
    public void LoadYaml_BadMetricsSection_ErrorNamesKey(string section, string expected)
    {
        var error = Should.Throw<ConfigException>(() => Load(section));

        error.Errors.ShouldHaveSingleItem().ShouldStartWith(expected);
    }
}
