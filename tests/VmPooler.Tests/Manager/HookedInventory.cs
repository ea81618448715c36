using VmPooler.Core.Inventory;

namespace VmPooler.Tests.Manager;

/// <summary>
/// An inventory that lets a test act between the reconciler's snapshot and its moves (e.g. a client extending a lifetime
/// mid-pass), so the conditional moves can be shown to lose such races safely.
/// </summary>
internal sealed class HookedInventory(IInventory inner) : IInventory
{
    /// <summary>Runs once, right before the next <see cref="GetPoolAsync"/> takes its snapshot.</summary>
    public Func<Task>? BeforeNextSnapshot { get; set; }

    /// <summary>Runs once, right after the next <see cref="GetPoolAsync"/> took its snapshot.</summary>
    public Func<Task>? AfterNextSnapshot { get; set; }

    public async Task<PoolSnapshot> GetPoolAsync(string pool, CancellationToken cancellationToken)
    {
        if (BeforeNextSnapshot is { } before)
        {
            BeforeNextSnapshot = null;
            await before();
        }

        var snapshot = await inner.GetPoolAsync(pool, cancellationToken);
        if (AfterNextSnapshot is { } hook)
        {
            AfterNextSnapshot = null;
            await hook();
        }

        return snapshot;
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

    public Task<CheckoutResult> CheckoutAsync(IReadOnlyList<CheckoutItem> items, CheckoutContext context, CancellationToken cancellationToken)
        => inner.CheckoutAsync(items, context, cancellationToken);

    public Task<ReturnOutcome> ReturnAsync(string vm, CancellationToken cancellationToken) => inner.ReturnAsync(vm, cancellationToken);

    public Task<VmRecord?> GetVmAsync(string vm, CancellationToken cancellationToken) => inner.GetVmAsync(vm, cancellationToken);

    public Task<IReadOnlyDictionary<string, PoolCounts>> GetCountsAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
        => inner.GetCountsAsync(pools, cancellationToken);

    public Task RecordDurationAsync(DurationKind kind, string pool, string vm, double seconds, DateTimeOffset at, CancellationToken cancellationToken)
        => inner.RecordDurationAsync(kind, pool, vm, seconds, at, cancellationToken);

    public Task<IReadOnlyDictionary<string, double>> GetDurationsAsync(DurationKind kind, DateOnly day, CancellationToken cancellationToken)
        => inner.GetDurationsAsync(kind, day, cancellationToken);

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> GetLastBootAsync(CancellationToken cancellationToken) => inner.GetLastBootAsync(cancellationToken);

    public Task RecordTagsAsync(string vm, IReadOnlyDictionary<string, string> tags, DateOnly day, CancellationToken cancellationToken)
        => inner.RecordTagsAsync(vm, tags, day, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetTagsAsync(DateOnly day, CancellationToken cancellationToken)
        => inner.GetTagsAsync(day, cancellationToken);

    public IDisposable SubscribePoolChanges(Action<string> onPoolChanged) => inner.SubscribePoolChanges(onPoolChanged);
}
