using Microsoft.Extensions.Logging;
using VmPooler.Core.Diagnostics;

namespace VmPooler.Telemetry;

internal static partial class TelemetryLog
{
    [LoggerMessage(EventIds.MetricsExporterStarted, LogLevel.Information, "[*] Metrics: sending {Exporter} to {Server}:{Port} with prefix '{Prefix}'")]
    public static partial void ExporterStarted(ILogger logger, string exporter, string server, int port, string prefix);

    [LoggerMessage(EventIds.MetricsSendFailed, LogLevel.Warning, "[!] Metrics: {Exporter} send to {Server}:{Port} failed, retrying in {Delay}: {Error}")]
    public static partial void SendFailed(ILogger logger, string exporter, string server, int port, TimeSpan delay, string error);

    [LoggerMessage(EventIds.MetricsDropped, LogLevel.Warning, "[!] Metrics: {Exporter} queue full, dropping measurements ({Dropped} so far)")]
    public static partial void Dropped(ILogger logger, string exporter, long dropped);

    [LoggerMessage(EventIds.PoolGaugeRefreshFailed, LogLevel.Debug, "[!] Metrics: pool gauges not refreshed: {Error}")]
    public static partial void GaugeRefreshFailed(ILogger logger, string error);

    [LoggerMessage(EventIds.TracingJaegerIgnored, LogLevel.Warning, "[!] tracing.jaeger_host is not used: spans go over OTLP to {Endpoint} (Jaeger accepts OTLP on port 4318)")]
    public static partial void JaegerIgnored(ILogger logger, string endpoint);
}
