using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using VmPooler.Core.Configuration;
using VmPooler.Core.Metrics;

namespace VmPooler.Telemetry.Otlp;

/// <summary>
/// OTLP export of spans (<c>tracing.enabled</c>) and metrics (<c>tracing.otlp_metrics</c>) through the OpenTelemetry
/// SDK. The mirror has no <c>OpenTelemetry.Extensions.Hosting</c>, so the providers are built here on start and
/// disposed (which flushes them) on stop.
/// </summary>
/// <remarks>
/// The SDK exports on its own timers (not <see cref="TimeProvider"/>): that is export pacing, not lifecycle logic.
/// Metrics are selected by meter name and then narrowed to this application's <see cref="VmPoolerMetrics"/> instance
/// with a view, so several applications in one process export only their own.
/// </remarks>
internal sealed class OtlpTelemetry(VmPoolerMetrics metrics, TracingOptions options, string serviceName, ILogger<OtlpTelemetry> logger) : IHostedService, IDisposable
{
    private TracerProvider? _tracer;
    private MeterProvider? _meters;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var protocol = options.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        if (options.Enabled)
        {
            if (options.JaegerHost is { Length: > 0 })
            {
                TelemetryLog.JaegerIgnored(logger, Endpoint("v1/traces", protocol)?.ToString() ?? "the OTEL_EXPORTER_OTLP_ENDPOINT");
            }

            _tracer = Sdk.CreateTracerProviderBuilder()
                .ConfigureResource(r => r.AddService(serviceName))
                .AddSource(VmPoolerMetrics.ActivitySource.Name)
                .AddOtlpExporter(o => Configure(o, "v1/traces", protocol))
                .Build();
        }

        if (options.OtlpMetrics)
        {
            _meters = Sdk.CreateMeterProviderBuilder()
                .ConfigureResource(r => r.AddService(serviceName))
                .AddMeter(VmPoolerMetrics.MeterName)
                .AddView(instrument => metrics.Owns(instrument) ? null : MetricStreamConfiguration.Drop)
                .AddOtlpExporter((exporter, reader) =>
                {
                    Configure(exporter, "v1/metrics", protocol);
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)Math.Max(100, options.OtlpMetricsInterval.TotalMilliseconds);
                })
                .Build();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _tracer, null)?.Dispose();
        Interlocked.Exchange(ref _meters, null)?.Dispose();
    }

    private void Configure(OtlpExporterOptions exporter, string signalPath, OtlpExportProtocol protocol)
    {
        exporter.Protocol = protocol;
        if (Endpoint(signalPath, protocol) is { } endpoint)
        {
            exporter.Endpoint = endpoint;
        }
    }

    /// <summary>The configured base URL plus the signal's path for http/protobuf (the SDK only appends it for the env var).</summary>
    private Uri? Endpoint(string signalPath, OtlpExportProtocol protocol)
    {
        if (options.OtlpEndpoint is not { } configured)
        {
            return null;
        }

        return protocol == OtlpExportProtocol.Grpc
            ? configured
            : new Uri(configured.ToString().TrimEnd('/') + "/" + signalPath);
    }
}
