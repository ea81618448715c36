using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Metrics;
using VmPooler.Core.OnDemand;

namespace VmPooler.Telemetry;

/// <summary>
/// Keeps the per-pool gauges (ready, pending, running, completed, size) and the queue lengths current in every role
/// that exports metrics, by reading the inventory's counts every <see cref="Interval"/>. The manager also sets a pool's
/// gauges at the end of each of its passes, so in the manager they are fresher than this; an API-only process has only
/// this. Sizes include run-time overrides (<c>/config/poolsize</c>).
/// </summary>
internal sealed class PoolGaugeRefresher(
    VmPoolerMetrics metrics,
    VmPoolerOptions options,
    IInventory inventory,
    TimeProvider timeProvider,
    ILogger<PoolGaugeRefresher> logger,
    IPoolOverrideStore? overrides = null,
    IVmTaskQueue? tasks = null,
    IOnDemandStore? onDemand = null) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, timeProvider);
        try
        {
            do
            {
                await RefreshAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One refresh; failures (the inventory away) are logged at debug level and the old values stay.</summary>
    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            var current = overrides is null ? null : await overrides.GetAsync(cancellationToken);
            var pools = options.Pools.Select(p => current?.Apply(p) ?? p).ToList();
            var counts = await inventory.GetCountsAsync([.. pools.Select(p => p.Name)], cancellationToken);
            foreach (var pool in pools)
            {
                if (counts.TryGetValue(pool.Name, out var count))
                {
                    metrics.SetPoolCounts(pool.Name, pool.Size, count);
                }
            }

            if (tasks is not null && await tasks.LengthAsync(cancellationToken) is { } length)
            {
                metrics.SetQueueLength("tasks", length);
            }

            if (onDemand is not null)
            {
                metrics.SetQueueLength("ondemand", (await onDemand.PendingAsync(cancellationToken)).Count);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            TelemetryLog.GaugeRefreshFailed(logger, ex.Message);
        }
    }
}
