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
    ILogger<CheckoutRecordingInventory> logger) : IInventory
{
    public async Task<CheckoutResult> CheckoutAsync(IReadOnlyList<CheckoutItem> items, CheckoutContext context, CancellationToken cancellationToken)
    {
        var result = await inner.CheckoutAsync(items, context, cancellationToken);
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

    public Task<bool> AddPendingAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => inner.AddPendingAsync(pool, vm, fields, cancellationToken);

    public Task<bool> MoveAsync(
        string pool,
        string vm,
        VmState from,
        VmState to,
        IReadOnlyDictionary<string, string>? fields = null,
        IReadOnlyDictionary<string, string?>? expect = null,
        CancellationToken cancellationToken = default)
        => inner.MoveAsync(pool, vm, from, to, fields, expect, cancellationToken);

    public Task<bool> ForgetAsync(
        string pool,
        string vm,
        VmState from,
        TimeSpan? keepMetadataFor,
        IReadOnlyDictionary<string, string>? fields = null,
        CancellationToken cancellationToken = default)
        => inner.ForgetAsync(pool, vm, from, keepMetadataFor, fields, cancellationToken);

    public Task<bool> AdoptDiscoveredAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => inner.AdoptDiscoveredAsync(pool, vm, fields, cancellationToken);

    public Task<bool> UpdateFieldsAsync(
        string vm,
        IReadOnlyDictionary<string, string> set,
        IReadOnlyCollection<string>? remove = null,
        CancellationToken cancellationToken = default)
        => inner.UpdateFieldsAsync(vm, set, remove, cancellationToken);

    public Task<ReturnOutcome> ReturnAsync(string vm, CancellationToken cancellationToken) => inner.ReturnAsync(vm, cancellationToken);

    public Task<VmRecord?> GetVmAsync(string vm, CancellationToken cancellationToken) => inner.GetVmAsync(vm, cancellationToken);

    public Task<PoolSnapshot> GetPoolAsync(string pool, CancellationToken cancellationToken) => inner.GetPoolAsync(pool, cancellationToken);

    public Task<IReadOnlyDictionary<string, PoolCounts>> GetCountsAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
        => inner.GetCountsAsync(pools, cancellationToken);

    public Task RecordDurationAsync(DurationKind kind, string pool, string vm, double seconds, DateTimeOffset at, CancellationToken cancellationToken)
        => inner.RecordDurationAsync(kind, pool, vm, seconds, at, cancellationToken);

    public Task<IReadOnlyDictionary<string, double>> GetDurationsAsync(DurationKind kind, DateOnly day, CancellationToken cancellationToken)
        => inner.GetDurationsAsync(kind, day, cancellationToken);

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> GetLastBootAsync(CancellationToken cancellationToken)
        => inner.GetLastBootAsync(cancellationToken);

    public Task RecordTagsAsync(string vm, IReadOnlyDictionary<string, string> tags, DateOnly day, CancellationToken cancellationToken)
        => inner.RecordTagsAsync(vm, tags, day, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetTagsAsync(DateOnly day, CancellationToken cancellationToken)
        => inner.GetTagsAsync(day, cancellationToken);

    public IDisposable SubscribePoolChanges(Action<string> onPoolChanged) => inner.SubscribePoolChanges(onPoolChanged);

    [LoggerMessage(Diagnostics.EventIds.HistoryCheckoutsNotRecorded, LogLevel.Warning, "[!] [{Pool}] checkouts not recorded in the dashboard history: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string pool, string error);
}
