using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Diagnostics;
using VmPooler.Core.Inventory;
using VmPooler.Core.Metrics;
using VmPooler.Core.Operations;

namespace VmPooler.Manager;

/// <summary>
/// The 3.8 health thread (<c>health_check_enabled</c>, every <c>health_check_interval</c>; spec §4.10): evaluates the
/// pools with <see cref="HealthEvaluator"/>, stores the report in the shared operations state (so every API process
/// serves <c>GET /api/v3/health</c> and, when configured, <c>/readyz</c> from it) and exports the
/// <c>vmpooler_health.*</c> gauges.
/// </summary>
internal sealed partial class HealthCheckService : BackgroundService
{
    private readonly VmPoolerOptions _options;
    private readonly IInventory _inventory;
    private readonly IDeadLetterQueue _deadLetters;
    private readonly IOperationsStateStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private HealthReport? _last;

    public HealthCheckService(
        VmPoolerOptions options,
        IInventory inventory,
        IDeadLetterQueue deadLetters,
        IOperationsStateStore store,
        TimeProvider timeProvider,
        ILogger<HealthCheckService> logger,
        VmPoolerMetrics? metrics = null)
    {
        _options = options;
        _inventory = inventory;
        _deadLetters = deadLetters;
        _store = store;
        _time = timeProvider;
        _logger = logger;
        metrics?.Meter.CreateObservableGauge("vmpooler_health", Gauges, description: "Health evaluation (3.8): status (0 healthy, 1 degraded, 2 unhealthy), stuck_vms, dlq_total, orphans.");
    }

    /// <summary>The time a stored report stays readable: three intervals, and at least upstream's hour.</summary>
    public TimeSpan TimeToLive => TimeSpan.FromTicks(Math.Max(TimeSpan.FromHours(1).Ticks, 3 * _options.Operations.HealthCheckInterval.Ticks));

    /// <summary>Evaluates and stores once.</summary>
    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        var names = _options.Pools.Select(p => p.Name).ToList();
        var snapshots = new List<PoolSnapshot>(names.Count);
        foreach (var name in names)
        {
            snapshots.Add(await _inventory.GetPoolAsync(name, cancellationToken));
        }

        var dlq = await _deadLetters.CountAsync(names, cancellationToken);
        var report = HealthEvaluator.Evaluate(snapshots, dlq, _options.Operations, _time.GetUtcNow());
        await _store.PutAsync(HealthReport.DocumentName, report.ToJson().ToJsonString(), TimeToLive, cancellationToken);
        if (_last?.Status != report.Status)
        {
            LogEvaluated(_logger, HealthReport.Name(report.Status), string.Join("; ", report.Reasons));
        }

        _last = report;
        return report;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Operations.HealthCheckEnabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.Operations.HealthCheckInterval, _time);
        do
        {
            try
            {
                await CheckAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(_logger, ex.Message);
            }
        }
        while (await NextAsync(timer, stoppingToken));
    }

    private static async Task<bool> NextAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private IEnumerable<Measurement<long>> Gauges()
    {
        if (_last is not { } report)
        {
            yield break;
        }

        yield return new Measurement<long>((long)report.Status, new KeyValuePair<string, object?>("stat", "status"));
        yield return new Measurement<long>(report.Stuck, new KeyValuePair<string, object?>("stat", "stuck_vms"));
        yield return new Measurement<long>(report.DeadLetters, new KeyValuePair<string, object?>("stat", "dlq_total"));
        yield return new Measurement<long>(report.Orphans, new KeyValuePair<string, object?>("stat", "orphans"));
    }

    [LoggerMessage(EventIds.HealthEvaluated, LogLevel.Information, "health: {Status} {Reasons}")]
    private static partial void LogEvaluated(ILogger logger, string status, string reasons);

    [LoggerMessage(EventIds.HealthCheckFailed, LogLevel.Warning, "[!] health evaluation failed (the next interval tries again): {Error}")]
    private static partial void LogFailed(ILogger logger, string error);
}
