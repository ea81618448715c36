using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Diagnostics;
using VmPooler.Core.Operations;

namespace VmPooler.Manager;

/// <summary>
/// Publishes this manager's provider breakers every <see cref="Interval"/> into the shared operations state, so every
/// API process shows which provider is down (<c>/status</c>, the dashboard). The document expires after
/// <see cref="TimeToLive"/> unless refreshed.
/// </summary>
internal sealed partial class OperationsStatePublisher(ProviderBreakers breakers, IOperationsStateStore store, TimeProvider timeProvider, ILogger<OperationsStatePublisher> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(30);

    /// <summary>Writes the current state once.</summary>
    public Task PublishAsync(CancellationToken cancellationToken)
        => store.PutAsync(CircuitBreakerJson.DocumentName, CircuitBreakerJson.Write(breakers.Snapshots()).ToJsonString(), TimeToLive, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, timeProvider);
        do
        {
            try
            {
                await PublishAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogPublishFailed(logger, ex.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
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

    [LoggerMessage(EventIds.OperationsStatePublishFailed, LogLevel.Warning, "[!] provider breaker state not published (the next tick tries again): {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string error);
}
