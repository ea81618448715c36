namespace VmPooler.Core.Configuration;

/// <summary>
/// Where metrics and traces go (spec §5.2 "Metrics", <c>:tracing:</c>). Unlike the original, which uses exactly one
/// backend (statsd, else Graphite, else Prometheus), every configured exporter is active at once: they all read the same
/// instruments, so a second one costs only its own sending.
/// </summary>
public sealed record MetricsOptions
{
    /// <summary><c>:statsd:</c>: UDP lines <c>&lt;prefix&gt;.&lt;name&gt;:&lt;value&gt;|c|g|ms</c>; null when absent.</summary>
    public PushMetricsOptions? Statsd { get; init; }

    /// <summary><c>:graphite:</c>: plaintext TCP lines <c>&lt;prefix&gt;.&lt;name&gt; &lt;value&gt; &lt;epoch&gt;</c>; null when absent.</summary>
    public PushMetricsOptions? Graphite { get; init; }

    /// <summary><c>:prometheus:</c>: the text exposition endpoint and <c>/healthcheck</c>; null when absent.</summary>
    public PrometheusOptions? Prometheus { get; init; }

    /// <summary><c>:tracing:</c>: OTLP traces and (optionally) OTLP metrics.</summary>
    public TracingOptions Tracing { get; init; } = new();

    /// <summary>True when some exporter needs the per-pool gauges kept fresh.</summary>
    public bool AnyExporter => Statsd is not null || Graphite is not null || Prometheus is not null || Tracing.OtlpMetrics;
}

/// <summary>A statsd or Graphite server.</summary>
public sealed record PushMetricsOptions
{
    public const string DefaultPrefix = "vmpooler";
    public const int DefaultStatsdPort = 8125;
    public const int DefaultGraphitePort = 2003;
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    public required string Server { get; init; }

    public required int Port { get; init; }

    /// <summary>Prepended to every name with a dot (default <c>vmpooler</c>).</summary>
    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>How often the gauges (pool sizes, queue lengths) are sent, in seconds (<c>interval</c>, default 10; ours).</summary>
    public TimeSpan Interval { get; init; } = DefaultInterval;
}

/// <summary>The Prometheus endpoint.</summary>
public sealed record PrometheusOptions
{
    public const string DefaultPrefix = "vmpooler";
    public const string DefaultMetricPrefix = "vmpooler";
    public const string DefaultEndpoint = "/prometheus";

    /// <summary><c>prefix</c>: the value of the <c>vmpooler_instance</c> label on every sample (default <c>vmpooler</c>).</summary>
    public string Instance { get; init; } = DefaultPrefix;

    /// <summary><c>prometheus_prefix</c>: metric names are <c>&lt;prometheus_prefix&gt;_&lt;family&gt;</c> (default <c>vmpooler</c>).</summary>
    public string MetricPrefix { get; init; } = DefaultMetricPrefix;

    /// <summary><c>prometheus_endpoint</c>: the path of the exposition (default <c>/prometheus</c>).</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;
}

/// <summary>The <c>:tracing:</c> section: OpenTelemetry over OTLP.</summary>
public sealed record TracingOptions
{
    public static readonly TimeSpan DefaultOtlpMetricsInterval = TimeSpan.FromSeconds(60);

    /// <summary><c>enabled</c>: export spans (checkout, clone, ready check, destroy) over OTLP.</summary>
    public bool Enabled { get; init; }

    /// <summary><c>jaeger_host</c>: the original's Jaeger collector URL; accepted, not used (Jaeger takes OTLP).</summary>
    public string? JaegerHost { get; init; }

    /// <summary>
    /// <c>otlp_endpoint</c>: the OTLP base URL (e.g. <c>http://collector:4318</c>); <c>/v1/traces</c> and
    /// <c>/v1/metrics</c> are appended for http/protobuf. When absent, <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or the OTLP default applies.
    /// </summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary><c>otlp_protocol</c>: <c>http/protobuf</c> (default) or <c>grpc</c>.</summary>
    public string OtlpProtocol { get; init; } = "http/protobuf";

    /// <summary><c>otlp_metrics</c>: also export every metric over OTLP (default false).</summary>
    public bool OtlpMetrics { get; init; }

    /// <summary><c>otlp_metrics_interval</c>: seconds between OTLP metric exports (default 60).</summary>
    public TimeSpan OtlpMetricsInterval { get; init; } = DefaultOtlpMetricsInterval;

    /// <summary><c>service_name</c>: overrides <c>vmpooler</c>/<c>vmpooler-api</c>/<c>vmpooler-manager</c> (+ <c>-&lt;config.prefix&gt;</c>).</summary>
    public string? ServiceName { get; init; }
}
