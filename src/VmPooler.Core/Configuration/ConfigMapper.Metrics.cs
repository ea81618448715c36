using System.Text.RegularExpressions;

namespace VmPooler.Core.Configuration;

/// <summary>The metrics sections: <c>:statsd:</c>, <c>:graphite:</c>, <c>:prometheus:</c> and <c>:tracing:</c>.</summary>
internal sealed partial class ConfigMapper
{
    /// <summary>Paths the API (and health) answer, which the Prometheus endpoint must not shadow.</summary>
    private static readonly string[] ReservedPaths = ["/", "/api", "/dashboard", "/healthcheck", "/healthz", "/readyz", "/status", "/summary", "/vm", "/token"];

    private MetricsOptions MapMetrics(Dictionary<string, object?> tree) => new()
    {
        Statsd = MapPushMetrics(_reader.ReadMapping(tree, "statsd", "statsd"), "statsd", PushMetricsOptions.DefaultStatsdPort),
        Graphite = MapPushMetrics(_reader.ReadMapping(tree, "graphite", "graphite"), "graphite", PushMetricsOptions.DefaultGraphitePort),
        Prometheus = MapPrometheus(_reader.ReadMapping(tree, "prometheus", "prometheus")),
        Tracing = MapTracing(_reader.ReadMapping(tree, "tracing", "tracing")),
    };

    /// <summary><c>:statsd:</c> and <c>:graphite:</c> need a server; their port must be a TCP/UDP port.</summary>
    private PushMetricsOptions? MapPushMetrics(Dictionary<string, object?>? section, string name, int defaultPort)
    {
        if (section is null)
        {
            return null;
        }

        var server = _reader.ReadString(section, "server", name + ".server");
        if (string.IsNullOrWhiteSpace(server) && !(section.TryGetValue("server", out var raw) && raw is not null and not string))
        {
            _reader.Error(name + ".server", "is required");
        }

        var prefix = _reader.ReadString(section, "prefix", name + ".prefix");
        if (prefix is not null && !MetricPathPattern().IsMatch(prefix))
        {
            _reader.Error(name + ".prefix", "must be letters, digits, '_', '-' and dots, not starting or ending with a dot (got " + ConfigReader.Describe(prefix) + ")");
        }

        var port = _reader.ReadInt(section, "port", name + ".port", 1, 65535);
        var interval = _reader.ReadDuration(section, "interval", name + ".interval", DurationUnit.Seconds, NumberRule.Positive);
        return new PushMetricsOptions
        {
            Server = server?.Trim() ?? "",
            Port = port ?? defaultPort,
            Prefix = prefix ?? PushMetricsOptions.DefaultPrefix,
            Interval = interval ?? PushMetricsOptions.DefaultInterval,
        };
    }

    private PrometheusOptions? MapPrometheus(Dictionary<string, object?>? section)
    {
        if (section is null)
        {
            return null;
        }

        var instance = _reader.ReadString(section, "prefix", "prometheus.prefix");
        var metricPrefix = _reader.ReadString(section, "prometheus_prefix", "prometheus.prometheus_prefix");
        if (metricPrefix is not null && !PrometheusNamePattern().IsMatch(metricPrefix))
        {
            _reader.Error("prometheus.prometheus_prefix", "must be a Prometheus metric name: a letter or '_' then letters, digits and '_' (got " + ConfigReader.Describe(metricPrefix) + ")");
        }

        var endpoint = _reader.ReadString(section, "prometheus_endpoint", "prometheus.prometheus_endpoint");
        if (endpoint is not null)
        {
            if (!EndpointPattern().IsMatch(endpoint))
            {
                _reader.Error("prometheus.prometheus_endpoint", "must be a path starting with '/' made of letters, digits, '_', '-', '.' and '/' (got " + ConfigReader.Describe(endpoint) + ")");
            }
            else if (ReservedPaths.Any(p => endpoint.TrimEnd('/') == p.TrimEnd('/') || (p != "/" && endpoint.StartsWith(p + "/", StringComparison.Ordinal))))
            {
                _reader.Error("prometheus.prometheus_endpoint", "must not be one of the API's own paths (got " + ConfigReader.Describe(endpoint) + ")");
            }
        }

        return new PrometheusOptions
        {
            Instance = instance ?? PrometheusOptions.DefaultPrefix,
            MetricPrefix = metricPrefix ?? PrometheusOptions.DefaultMetricPrefix,
            Endpoint = endpoint is { Length: > 1 } ? endpoint.TrimEnd('/') : endpoint ?? PrometheusOptions.DefaultEndpoint,
        };
    }

    private TracingOptions MapTracing(Dictionary<string, object?>? section)
    {
        if (section is null)
        {
            return new TracingOptions();
        }

        var enabled = _reader.ReadBool(section, "enabled", "tracing.enabled");
        var jaeger = _reader.ReadString(section, "jaeger_host", "tracing.jaeger_host");
        Uri? endpoint = null;
        if (_reader.ReadString(section, "otlp_endpoint", "tracing.otlp_endpoint") is { } text)
        {
            if (Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                endpoint = uri;
            }
            else
            {
                _reader.Error("tracing.otlp_endpoint", "must be an absolute http:// or https:// URL (got " + ConfigReader.Describe(text) + ")");
            }
        }

        var protocol = _reader.ReadString(section, "otlp_protocol", "tracing.otlp_protocol");
        if (protocol is not null and not ("http/protobuf" or "grpc"))
        {
            _reader.Error("tracing.otlp_protocol", "must be http/protobuf or grpc (got " + ConfigReader.Describe(protocol) + ")");
        }

        return new TracingOptions
        {
            Enabled = enabled ?? false,
            JaegerHost = jaeger,
            OtlpEndpoint = endpoint,
            OtlpProtocol = protocol ?? "http/protobuf",
            OtlpMetrics = _reader.ReadBool(section, "otlp_metrics", "tracing.otlp_metrics") ?? false,
            OtlpMetricsInterval = _reader.ReadDuration(section, "otlp_metrics_interval", "tracing.otlp_metrics_interval", DurationUnit.Seconds, NumberRule.Positive)
                ?? TracingOptions.DefaultOtlpMetricsInterval,
            ServiceName = _reader.ReadString(section, "service_name", "tracing.service_name"),
        };
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$")]
    private static partial Regex MetricPathPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex PrometheusNamePattern();

    [GeneratedRegex("^/[A-Za-z0-9_./-]*$")]
    private static partial Regex EndpointPattern();
}
