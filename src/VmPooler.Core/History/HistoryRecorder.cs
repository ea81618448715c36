using Microsoft.Extensions.Logging;
using VmPooler.Core.Inventory;

namespace VmPooler.Core.History;

/// <summary>
/// Samples every pool's ready/pending/running counts into the <see cref="IHistoryStore"/>: once at start, then on each
/// whole minute of the injected clock. The pool manager runs it while it manages the pools (one sampler per
/// installation); a failed sample is logged and the next minute tries again.
/// </summary>
public sealed partial class HistoryRecorder(
    IReadOnlyList<string> pools,
    IInventory inventory,
    IHistoryStore store,
    TimeProvider timeProvider,
    ILogger<HistoryRecorder> logger)
{
    /// <summary>Number of samples recorded so far (for tests and diagnostics).</summary>
    public int Samples => Volatile.Read(ref _samples);

    private int _samples;

    /// <summary>Takes one sample of every pool now.</summary>
    public async Task SampleAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var counts = await inventory.GetCountsAsync(pools, cancellationToken);
        var samples = pools
            .Select(p => counts.TryGetValue(p, out var c) ? new PoolSample(p, c.Ready, c.Pending, c.Running) : new PoolSample(p, 0, 0, 0))
            .ToList();
        await store.RecordSamplesAsync(samples, now, cancellationToken);
        Interlocked.Increment(ref _samples);
    }

    /// <summary>Samples now and then on every whole minute until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await SampleAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSampleFailed(logger, ex.Message);
            }

            await Task.Delay(UntilNextSample(timeProvider.GetUtcNow()), timeProvider, cancellationToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The time from <paramref name="now"/> to the next whole <see cref="HistoryConstants.SampleInterval"/>.</summary>
    public static TimeSpan UntilNextSample(DateTimeOffset now)
    {
        var interval = HistoryConstants.SampleInterval.Ticks;
        var rest = now.UtcTicks % interval;
        return TimeSpan.FromTicks(interval - rest);
    }

    [LoggerMessage(Diagnostics.EventIds.HistorySampleFailed, LogLevel.Warning, "[!] Dashboard history sample failed (the next minute tries again): {Error}")]
    private static partial void LogSampleFailed(ILogger logger, string error);
}
