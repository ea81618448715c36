using Microsoft.Extensions.Logging;
using VmPooler.Core.Diagnostics;
using VmPooler.Core.Metrics;

namespace VmPooler.Core.Operations;

/// <summary>
/// What the pool manager calls where a VM fails: records it in the dead-letter queue and counts it
/// (<c>vmpooler_dlq.&lt;queue&gt;.count</c>). A queue that cannot be written is logged, never thrown: the failed VM is
/// still destroyed and replaced.
/// </summary>
public sealed partial class DeadLetterRecorder(IDeadLetterQueue queue, TimeProvider timeProvider, ILogger<DeadLetterRecorder> logger, VmPoolerMetrics? metrics = null)
{
    public IDeadLetterQueue Queue => queue;

    public async Task RecordAsync(string pool, string vm, DeadLetterKind kind, string reason, int attempts, CancellationToken cancellationToken)
    {
        if (!queue.Enabled)
        {
            return;
        }

        try
        {
            await queue.AddAsync(new DeadLetterEntry(vm, pool, reason, timeProvider.GetUtcNow(), Math.Max(1, attempts), kind), cancellationToken);
            metrics?.DeadLettered(DeadLetterKinds.Name(kind));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNotRecorded(logger, pool, vm, DeadLetterKinds.Name(kind), ex.Message);
        }
    }

    [LoggerMessage(EventIds.DeadLetterNotRecorded, LogLevel.Warning, "[!] [{Pool}] '{Vm}' failed ({Kind}) but could not be put in the dead-letter queue: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string pool, string vm, string kind, string error);
}
