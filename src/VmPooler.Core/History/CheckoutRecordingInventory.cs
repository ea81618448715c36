using Microsoft.Extensions.Logging;
using VmPooler.Core.Inventory;

namespace VmPooler.Core.History;

/// <summary>
/// The API's inventory, counting successful checkouts per pool into the <see cref="IHistoryStore"/> (the dashboard's
/// "checkouts over time"). Everything else passes straight through. A history that cannot be written is logged and never
/// fails the checkout: the VMs have been handed out already.
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
                try
                {
                    await history.RecordCheckoutsAsync(pool.Key, pool.Count(), now, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    LogNotRecorded(logger, pool.Key, ex.Message);
                }
            }
        }

        return result;
    }

    [LoggerMessage(Diagnostics.EventIds.HistoryCheckoutsNotRecorded, LogLevel.Warning, "[!] [{Pool}] checkouts not recorded in the dashboard history: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string pool, string error);
}
