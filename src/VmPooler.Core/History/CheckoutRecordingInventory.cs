using Microsoft.Extensions.Logging;
using VmPooler.Core.Inventory;

namespace VmPooler.Core.History;

/// <summary>
/// The API's inventory, counting successful checkouts per pool into the <see cref="IHistoryStore"/> (the dashboard's
/// "checkouts over time"). Everything else passes straight through. The checkout does not wait for its history: the
/// record is sent before the answer (so a later read on the same connection sees it), and one that cannot be written
/// is logged and never fails the checkout, whose VMs have been handed out already.
/// </summary>
public sealed partial class CheckoutRecordingInventory(
    IInventory inner,
    IHistoryStore history,
    TimeProvider timeProvider,
    ILogger<CheckoutRecordingInventory> logger) : DelegatingInventory(inner)
{
    public override async Task<CheckoutResult> CheckoutAsync(IReadOnlyList<CheckoutItem> items, CheckoutContext context, CancellationToken cancellationToken)
    {
        var result = await Inner.CheckoutAsync(items, context, cancellationToken);
        if (result.Succeeded && result.Allocations.Count > 0)
        {
            var now = timeProvider.GetUtcNow();
            foreach (var pool in result.Allocations.GroupBy(a => a.Pool, StringComparer.Ordinal))
            {
                _ = RecordAsync(pool.Key, pool.Count(), now);
            }
        }

        return result;
    }

    private async Task RecordAsync(string pool, int count, DateTimeOffset at)
    {
        try
        {
            await history.RecordCheckoutsAsync(pool, count, at, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogNotRecorded(logger, pool, ex.Message);
        }
    }

    [LoggerMessage(Diagnostics.EventIds.HistoryCheckoutsNotRecorded, LogLevel.Warning, "[!] [{Pool}] checkouts not recorded in the dashboard history: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string pool, string error);
}
