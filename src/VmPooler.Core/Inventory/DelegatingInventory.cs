namespace VmPooler.Core.Inventory;

/// <summary>
/// An inventory that hands every call to <see cref="Inner"/>; a wrapper derives from it and overrides only what it adds
/// to. Every member is forwarded, the interface's default ones included, so a wrapper never hides an inner inventory's
/// own implementation of them (e.g. the record-based <see cref="ReturnAsync(VmRecord, CancellationToken)"/>).
/// </summary>
public abstract class DelegatingInventory(IInventory inner) : IInventory
{
    protected IInventory Inner { get; } = inner;

    public virtual Task<PoolTally> GetTallyAsync(string pool, CancellationToken cancellationToken)
        => Inner.GetTallyAsync(pool, cancellationToken);

    public virtual Task<bool> AddPendingAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => Inner.AddPendingAsync(pool, vm, fields, cancellationToken);

    public virtual Task<bool> MoveAsync(
        string pool,
        string vm,
        VmState from,
        VmState to,
        IReadOnlyDictionary<string, string>? fields = null,
        IReadOnlyDictionary<string, string?>? expect = null,
        CancellationToken cancellationToken = default)
        => Inner.MoveAsync(pool, vm, from, to, fields, expect, cancellationToken);

    public virtual Task<bool> ForgetAsync(
        string pool,
        string vm,
        VmState from,
        TimeSpan? keepMetadataFor,
        IReadOnlyDictionary<string, string>? fields = null,
        CancellationToken cancellationToken = default)
        => Inner.ForgetAsync(pool, vm, from, keepMetadataFor, fields, cancellationToken);

    public virtual Task<bool> AdoptDiscoveredAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => Inner.AdoptDiscoveredAsync(pool, vm, fields, cancellationToken);

    public virtual Task<bool> ImportVmAsync(string pool, string vm, VmState state, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => Inner.ImportVmAsync(pool, vm, state, fields, cancellationToken);

    public virtual Task<int> SetFieldAsync(string pool, IReadOnlyCollection<string> vms, string field, string value, CancellationToken cancellationToken)
        => Inner.SetFieldAsync(pool, vms, field, value, cancellationToken);

    public virtual Task<bool> UpdateFieldsAsync(
        string vm,
        IReadOnlyDictionary<string, string> set,
        IReadOnlyCollection<string>? remove = null,
        CancellationToken cancellationToken = default)
        => Inner.UpdateFieldsAsync(vm, set, remove, cancellationToken);

    public virtual Task<CheckoutResult> CheckoutAsync(IReadOnlyList<CheckoutItem> items, CheckoutContext context, CancellationToken cancellationToken)
        => Inner.CheckoutAsync(items, context, cancellationToken);

    public virtual Task<ReturnOutcome> ReturnAsync(string vm, CancellationToken cancellationToken) => Inner.ReturnAsync(vm, cancellationToken);

    public virtual Task<ReturnOutcome> ReturnAsync(VmRecord vm, CancellationToken cancellationToken) => Inner.ReturnAsync(vm, cancellationToken);

    public virtual Task<ReturnOutcome> ReturnUnownedAsync(string vm, CancellationToken cancellationToken) => Inner.ReturnUnownedAsync(vm, cancellationToken);

    public virtual Task<VmRecord?> GetVmAsync(string vm, CancellationToken cancellationToken) => Inner.GetVmAsync(vm, cancellationToken);

    public virtual Task<PoolSnapshot> GetPoolAsync(string pool, CancellationToken cancellationToken) => Inner.GetPoolAsync(pool, cancellationToken);

    public virtual Task<IReadOnlyDictionary<string, PoolCounts>> GetCountsAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
        => Inner.GetCountsAsync(pools, cancellationToken);

    public virtual Task RecordDurationAsync(DurationKind kind, string pool, string vm, double seconds, DateTimeOffset at, CancellationToken cancellationToken)
        => Inner.RecordDurationAsync(kind, pool, vm, seconds, at, cancellationToken);

    public virtual Task RecordCloneAndBootAsync(string pool, string vm, double cloneSeconds, double bootSeconds, DateTimeOffset at, CancellationToken cancellationToken)
        => Inner.RecordCloneAndBootAsync(pool, vm, cloneSeconds, bootSeconds, at, cancellationToken);

    public virtual Task<IReadOnlyDictionary<string, double>> GetDurationsAsync(DurationKind kind, DateOnly day, CancellationToken cancellationToken)
        => Inner.GetDurationsAsync(kind, day, cancellationToken);

    public virtual Task<IReadOnlyDictionary<string, DateTimeOffset>> GetLastBootAsync(CancellationToken cancellationToken)
        => Inner.GetLastBootAsync(cancellationToken);

    public virtual Task RecordTagsAsync(string vm, IReadOnlyDictionary<string, string> tags, DateOnly day, CancellationToken cancellationToken)
        => Inner.RecordTagsAsync(vm, tags, day, cancellationToken);

    public virtual Task<IReadOnlyDictionary<string, string>> GetTagsAsync(DateOnly day, CancellationToken cancellationToken)
        => Inner.GetTagsAsync(day, cancellationToken);

    public virtual IDisposable SubscribePoolChanges(Action<string> onPoolChanged) => Inner.SubscribePoolChanges(onPoolChanged);
}
