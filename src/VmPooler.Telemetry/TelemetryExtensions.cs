using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Metrics;
using VmPooler.Core.OnDemand;
using VmPooler.Telemetry.Health;
using VmPooler.Telemetry.Otlp;
using VmPooler.Telemetry.Prometheus;
using VmPooler.Telemetry.Push;

namespace VmPooler.Telemetry;

/// <summary>Metrics exporters and health endpoints, in one place (the eShop ServiceDefaults idea).</summary>
public static class TelemetryExtensions
{
    /// <summary>The tag of the checks <c>/readyz</c> runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers the instruments, the exporters the configuration names (all of them at once), the pool-gauge refresher
    /// and the health checks (<c>inventory</c>; <c>manager</c> when <paramref name="runsManager"/>).
    /// </summary>
    public static IServiceCollection AddVmPoolerTelemetry(this IServiceCollection services, VmPoolerOptions options, bool runsManager, string serviceName)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<VmPoolerMetrics>();
        services.TryAddSingleton<ManagerHeartbeat>();
        var metrics = options.Metrics;
        if (metrics.Prometheus is not null)
        {
            services.TryAddSingleton(sp => new PrometheusCollector(sp.GetRequiredService<VmPoolerMetrics>()));
        }

        if (metrics.Statsd is { } statsd)
        {
            services.AddHostedService(sp => new StatsdExporter(
                sp.GetRequiredService<VmPoolerMetrics>(), statsd, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<StatsdExporter>>()));
        }

        if (metrics.Graphite is { } graphite)
        {
            services.AddHostedService(sp => new GraphiteExporter(
                sp.GetRequiredService<VmPoolerMetrics>(), graphite, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<GraphiteExporter>>()));
        }

        if (metrics.Tracing.Enabled || metrics.Tracing.OtlpMetrics)
        {
            services.AddHostedService(sp => new OtlpTelemetry(
                sp.GetRequiredService<VmPoolerMetrics>(), metrics.Tracing, serviceName, sp.GetRequiredService<ILogger<OtlpTelemetry>>()));
        }

        if (metrics.AnyExporter)
        {
            services.AddHostedService(sp => new PoolGaugeRefresher(
                sp.GetRequiredService<VmPoolerMetrics>(),
                options,
                sp.GetRequiredService<IInventory>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<PoolGaugeRefresher>>(),
                sp.GetService<IPoolOverrideStore>(),
                sp.GetService<IVmTaskQueue>(),
                sp.GetService<IOnDemandStore>()));
        }

        var health = services.AddHealthChecks().AddCheck<InventoryHealthCheck>("inventory", tags: [ReadyTag]);
        if (runsManager)
        {
            health.AddCheck<ManagerHealthCheck>("manager", tags: [ReadyTag]);
        }

        if (options.Operations.HealthCheckEnabled && options.Operations.HealthAffectsReadyz)
        {
            health.AddCheck<OperationsHealthCheck>("health", tags: [ReadyTag]);
        }

        return services;
    }

    /// <summary>
    /// Maps <c>/healthz</c> (always 200 while the process serves), <c>/readyz</c> (200 or 503 naming what is not ready),
    /// and, with <c>:prometheus:</c>, its endpoint and <c>/healthcheck</c> (spec §2.9).
    /// </summary>
    public static IEndpointRouteBuilder MapVmPoolerTelemetry(this IEndpointRouteBuilder endpoints, VmPoolerOptions options)
    {
        // Probes and scrapes are not clients: an orchestrator's probe every few seconds from one address would otherwise use
        // up that address's global_per_ip allowance and then see 429 instead of the health it asked for.
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = HealthResponseWriter.WriteAsync,
        }).DisableRateLimiting();
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = HealthResponseWriter.WriteAsync,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).DisableRateLimiting();

        if (options.Metrics.Prometheus is { } prometheus)
        {
            var collector = endpoints.ServiceProvider.GetRequiredService<PrometheusCollector>();
            endpoints.MapGet(prometheus.Endpoint, () => Results.Text(collector.Render(prometheus.MetricPrefix, prometheus.Instance), PrometheusTextWriter.ContentType))
                .DisableRateLimiting();
            endpoints.MapGet("/healthcheck", () => Results.Text("{\"ok\":true}", "application/json")).DisableRateLimiting();
        }

        return endpoints;
    }

    /// <summary>The service name spans carry: <c>vmpooler</c>, <c>vmpooler-api</c> or <c>vmpooler-manager</c>, plus <c>-&lt;config.prefix&gt;</c> (spec §1).</summary>
    public static string ServiceName(VmPoolerOptions options, string? role)
    {
        if (options.Metrics.Tracing.ServiceName is { Length: > 0 } configured)
        {
            return configured;
        }

        var name = role is null ? "vmpooler" : "vmpooler-" + role;
        var prefix = options.Config.Prefix.Trim().TrimEnd('-', '.', '_');
        return prefix.Length > 0 ? name + "-" + prefix : name;
    }
}
