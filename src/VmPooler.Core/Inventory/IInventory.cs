namespace VmPooler.Core.Inventory;

/// <summary>
/// The shared state of every pool: which VMs exist in which state, their metadata, and the statistics the manager
/// records. Every state change is one atomic operation that is conditional on the VM's current state, so any number
/// of API processes and a manager can share one inventory without ever handing a VM out twice (DESIGN.md invariant 1).
/// </summary>
public interface IInventory
{
    /// <summary>
    /// Registers a new VM in <paramref name="pool"/>'s pending state with the given metadata. False (and no change)
    /// when a VM of that name is already known, including one whose metadata is still retained after destruction.
    /// </summary>
    Task<bool> AddPendingAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a VM from <paramref name="from"/> to <paramref name="to"/> and sets <paramref name="fields"/>, only if it is
    /// in <paramref name="from"/> and every field in <paramref name="expect"/> has the given value (null = absent).
    /// Moving to <see cref="VmState.Ready"/> makes the VM the newest ready one. True when the move happened.
    /// </summary>
    Task<bool> MoveAsync(
        string pool,
        string vm,
        VmState from,
        VmState to,
        IReadOnlyDictionary<string, string>? fields = null,
        IReadOnlyDictionary<string, string?>? expect = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Drops a VM from <paramref name="from"/> (and from the inventory): sets <paramref name="fields"/>, then keeps the
    /// metadata for <paramref name="keepMetadataFor"/> (so its name is not reused and <c>GET /vm</c> reports it
    /// destroyed) or deletes it at once when null. True when the VM was in <paramref name="from"/>. An inventory keeps
    /// at most <c>max_destroyed_records_per_pool</c> such records per pool: forgetting one more drops the pool's oldest
    /// kept record at once (its name is free again and <c>GET /vm</c> answers unknown).
    /// </summary>
    Task<bool> ForgetAsync(
        string pool,
        string vm,
        VmState from,
        TimeSpan? keepMetadataFor,
        IReadOnlyDictionary<string, string>? fields = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Tracks a VM the provider has but the inventory does not, in the completed state so that it gets destroyed.
    /// False when the name is already known.
    /// </summary>
    Task<bool> AdoptDiscoveredAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken);

    /// <summary>
    /// Takes over a VM from another installation (<c>vmpooler import-ruby</c>): registers it directly in
    /// <paramref name="state"/> with its metadata as it was there (clone, ready and checkout times, owner, lifetime …), in
    /// one atomic step; a ready VM becomes the newest ready one. False (and no change) when the name is already known.
    /// </summary>
    Task<bool> ImportVmAsync(string pool, string vm, VmState state, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken);

    /// <summary>
    /// Sets one field to one value on several VMs of <paramref name="pool"/> in one step (the time stamps of a pass's
    /// ready checks: one inventory call per pool instead of one per VM). Names no longer known in the pool are skipped.
    /// Returns how many VMs were set.
    /// </summary>
    Task<int> SetFieldAsync(string pool, IReadOnlyCollection<string> vms, string field, string value, CancellationToken cancellationToken);

    /// <summary>Sets (and removes) metadata fields of a known VM. False when the VM is unknown.</summary>
    Task<bool> UpdateFieldsAsync(
        string vm,
        IReadOnlyDictionary<string, string> set,
        IReadOnlyCollection<string>? remove = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands out VMs, all or nothing: for each item, the oldest ready VM of its first candidate pool that has one. Either
    /// every item gets a VM (moved to running, with <c>checkout</c> and the context's token fields set) or none does.
    /// </summary>
    Task<CheckoutResult> CheckoutAsync(IReadOnlyList<CheckoutItem> items, CheckoutContext context, CancellationToken cancellationToken);

    /// <summary>Returns a checked-out VM: running → completed. Says whether the VM was unknown, not running, or returned.</summary>
    Task<ReturnOutcome> ReturnAsync(string vm, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="ReturnAsync(string, CancellationToken)"/> for a VM whose record the caller has just read: an inventory
    /// may use the record's pool instead of looking it up again (the API reads the VM for its token checks first).
    /// </summary>
    Task<ReturnOutcome> ReturnAsync(VmRecord vm, CancellationToken cancellationToken) => ReturnAsync(vm.Name, cancellationToken);

    /// <summary>
    /// Returns a VM that no token owns in one step, as <see cref="ReturnAsync(string, CancellationToken)"/> does (the API's
    /// usual return: no read of the VM first). A VM that carries a token, whatever its state, is left as it is and
    /// answered <see cref="ReturnStatus.Owned"/>: the caller checks the request's token against it and returns it then.
    /// </summary>
    Task<ReturnOutcome> ReturnUnownedAsync(string vm, CancellationToken cancellationToken);

    /// <summary>A VM's metadata and state, or null when unknown.</summary>
    Task<VmRecord?> GetVmAsync(string vm, CancellationToken cancellationToken);

    /// <summary>Every VM of a pool by state, with metadata (the manager's view of one pool).</summary>
    Task<PoolSnapshot> GetPoolAsync(string pool, CancellationToken cancellationToken);

    /// <summary>
    /// A pool's counts and the names of its completed VMs, without any VM's metadata, in one read: the manager's event
    /// path tops the pool up and destroys returned VMs from this alone, whatever the pool's size.
    /// </summary>
    async Task<PoolTally> GetTallyAsync(string pool, CancellationToken cancellationToken)
    {
        var counts = (await GetCountsAsync([pool], cancellationToken))[pool];
        return new PoolTally(counts, counts.Completed == 0 ? [] : [.. (await GetPoolAsync(pool, cancellationToken)).Completed.Select(vm => vm.Name)]);
    }

    /// <summary>Number of VMs per state for each pool (unknown pools count zero).</summary>
    Task<IReadOnlyDictionary<string, PoolCounts>> GetCountsAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken);

    /// <summary>Records a duration (seconds) of a finished clone or boot under the day of <paramref name="at"/> (UTC).</summary>
    Task RecordDurationAsync(DurationKind kind, string pool, string vm, double seconds, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Records a VM's clone and boot durations together, as a clone whose own first ready check passed has both (one
    /// call where the store can; by default, each in turn).
    /// </summary>
    async Task RecordCloneAndBootAsync(string pool, string vm, double cloneSeconds, double bootSeconds, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await RecordDurationAsync(DurationKind.Clone, pool, vm, cloneSeconds, at, cancellationToken);
        await RecordDurationAsync(DurationKind.Boot, pool, vm, bootSeconds, at, cancellationToken);
    }

    /// <summary>The durations recorded on one day (UTC): <c>pool:vm</c> → seconds.</summary>
    Task<IReadOnlyDictionary<string, double>> GetDurationsAsync(DurationKind kind, DateOnly day, CancellationToken cancellationToken);

    /// <summary>When each pool last had a VM become ready.</summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> GetLastBootAsync(CancellationToken cancellationToken);

    /// <summary>Records tag values in the day's tag index (<c>vm:tag</c> → value) used by <c>/summary</c>.</summary>
    Task RecordTagsAsync(string vm, IReadOnlyDictionary<string, string> tags, DateOnly day, CancellationToken cancellationToken);

    /// <summary>The day's tag index written by <see cref="RecordTagsAsync"/>: <c>vm:tag</c> → value.</summary>
    Task<IReadOnlyDictionary<string, string>> GetTagsAsync(DateOnly day, CancellationToken cancellationToken);

    /// <summary>
    /// Calls <paramref name="onPoolChanged"/> with a pool name whenever VMs of that pool were checked out or returned,
    /// so the manager can refill at once. Dispose the result to stop.
    /// </summary>
    IDisposable SubscribePoolChanges(Action<string> onPoolChanged);
}

/// <summary>The lifecycle states of a pool VM (spec §11.1).</summary>
public enum VmState
{
    Pending,
    Ready,
    Running,
    Completed,
}

/// <summary>Which duration statistic.</summary>
public enum DurationKind
{
    Clone,
    Boot,
}

/// <summary>A VM's inventory entry: its raw fields as stored (spec §3.2); everyone but the inventories reads <see cref="View"/>.</summary>
public sealed record VmRecord(string Name, string Pool, VmState? State, IReadOnlyDictionary<string, string> Fields)
{
    /// <summary>The record parsed into a typed view, once.</summary>
    public VmView View => field ??= VmView.From(this);

    /// <summary>One raw field (the inventories' edge: scripts, the import, the contract tests).</summary>
    public string? Get(string field) => Fields.TryGetValue(field, out var value) ? value : null;
}

/// <summary>A pool's VMs by state.</summary>
public sealed record PoolSnapshot(
    string Pool,
    IReadOnlyList<VmRecord> Pending,
    IReadOnlyList<VmRecord> Ready,
    IReadOnlyList<VmRecord> Running,
    IReadOnlyList<VmRecord> Completed)
{
    /// <summary>The names of every VM in the snapshot.</summary>
    public HashSet<string> Names()
        => [.. Pending.Select(v => v.Name), .. Ready.Select(v => v.Name), .. Running.Select(v => v.Name), .. Completed.Select(v => v.Name)];
}

/// <summary>
/// Counts of one pool's VMs per state; <paramref name="Cloning"/> counts the pending VMs whose clone has not finished,
/// <paramref name="OnDemand"/> the pending VMs cloned for on-demand requests (they do not count towards the pool's size).
/// </summary>
public readonly record struct PoolCounts(int Pending, int Ready, int Running, int Completed, int Cloning = 0, int OnDemand = 0)
{
    /// <summary>The pending VMs that count towards the pool's size.</summary>
    public int PoolPending => Pending - OnDemand;
}

/// <summary>One VM wanted in a checkout: the name the client asked for and the pools that may serve it, in order.</summary>
public sealed record CheckoutItem(string RequestedName, IReadOnlyList<string> CandidatePools);

/// <summary>What a checkout records on each VM it hands out.</summary>
public sealed record CheckoutContext(DateTimeOffset Now, string? Token = null, string? User = null, int? Lifetime = null);

/// <summary>One VM handed out: for which requested name, from which pool.</summary>
public sealed record Allocation(string RequestedName, string Pool, string Vm);

/// <summary>The result of an all-or-nothing checkout.</summary>
public sealed record CheckoutResult(IReadOnlyList<Allocation> Allocations, string? FailedRequestedName)
{
    public bool Succeeded => FailedRequestedName is null;

    public static CheckoutResult Failed(string requestedName) => new([], requestedName);
}

/// <summary>What happened to a return.</summary>
public enum ReturnStatus
{
    UnknownVm,
    NotRunning,
    Returned,

    /// <summary>Not returned: a token owns the VM (<see cref="IInventory.ReturnUnownedAsync"/>).</summary>
    Owned,
}

/// <summary>The outcome of <see cref="IInventory.ReturnAsync"/>, with the VM's pool when known.</summary>
public readonly record struct ReturnOutcome(ReturnStatus Status, string? Pool);
