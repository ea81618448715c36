using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Core.Metrics;
using VmPooler.Core.Naming;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Operations;
using VmPooler.Manager.Execution;
using VmPooler.Manager.Planning;

namespace VmPooler.Manager;

/// <summary>
/// Brings one pool towards its desired state. Two paths (DESIGN.md "Pool manager", triggers): <see cref="TopUpAsync"/>
/// answers a checkout or a return from the pool's counts alone (clone what it lacks, destroy what was returned), and
/// <see cref="ReconcileAsync"/> is the periodic full pass that reads every VM of the pool and re-syncs it with the
/// provider (TTLs, lifetimes, leaks, phantoms). Decisions come from <see cref="PoolPlanner"/>; the provider work runs
/// in the <see cref="VmExecutor"/>.
/// </summary>
internal sealed partial class PoolReconciler : IAsyncDisposable
{
    private const int CheckParallelism = 16;

    private readonly VmPoolerOptions _options;
    private readonly IInventory _inventory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IPoolOverrideStore? _overrides;
    private readonly VmPoolerMetrics? _metrics;
    private readonly VmExecutor _executor;
    private readonly DeadLetterRecorder? _deadLetters;
    private readonly ConcurrentDictionary<string, PoolOptions> _effective = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _emptyFlags = new(StringComparer.Ordinal);

    public PoolReconciler(
        VmPoolerOptions options,
        IInventory inventory,
        IEnumerable<Core.Providers.IVmProvider> providers,
        TimeProvider timeProvider,
        ILogger<PoolReconciler> logger,
        VmNameGenerator? names = null,
        IPoolOverrideStore? overrides = null,
        IOnDemandStore? onDemand = null,
        VmPoolerMetrics? metrics = null,
        DeadLetterRecorder? deadLetters = null)
    {
        _deadLetters = deadLetters;
        _options = options;
        _inventory = inventory;
        _time = timeProvider;
        _logger = logger;
        _overrides = overrides;
        _metrics = metrics;
        _executor = new VmExecutor(options, inventory, providers, timeProvider, logger, names, onDemand, metrics, deadLetters);
    }

    /// <summary>Pools that need attention after background work (a clone ended, a first ready check failed).</summary>
    internal ChannelReader<PoolSignal> Signals => _executor.Signals;

    /// <summary>Clones currently running, across all pools.</summary>
    public int ClonesInFlight => _executor.ClonesInFlight;

    /// <summary>Completes when every background clone and destroy started so far has finished (for tests and shutdown).</summary>
    public Task WhenIdleAsync() => _executor.WhenIdleAsync();

    /// <summary>Whether a pool's clones are held back after failures, and until when.</summary>
    public DateTimeOffset? CloneBackoffUntil(string pool) => _executor.CloneBackoffUntil(pool);

    /// <summary>True for a VM cloned for an on-demand request.</summary>
    public static bool IsOnDemand(VmRecord vm) => PoolPlanner.IsOnDemand(vm);

    /// <summary>A provider call with a time limit (the manager's jobs use it for disk and snapshot tasks).</summary>
    internal Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) => _executor.CallAsync(call, cancellationToken);

    /// <summary>Starts clones of a pool for an on-demand request within <c>ondemand_clone_limit</c>; returns how many started.</summary>
    public Task<int> StartOnDemandClonesAsync(PoolOptions pool, string requestId, string requestedName, int count, CancellationToken cancellationToken)
        => _executor.StartOnDemandClonesAsync(pool, requestId, requestedName, count, cancellationToken);

    /// <summary>This manager no longer owns the pool: its clones here stop and it asks for none.</summary>
    public void Release(string pool) => _executor.StopPool(pool);

    /// <summary>This manager owns the pool (again): its passes may clone for it.</summary>
    public void Resume(string pool) => _executor.ResumePool(pool);

    /// <summary>Completes when nothing of this manager still acts on the pool (see <see cref="Release"/>).</summary>
    public Task WhenPoolIdleAsync(string pool) => _executor.WhenPoolIdleAsync(pool);

    /// <summary>
    /// The event path: tops a pool up from its counts alone (a constant number of inventory calls, whatever the pool's
    /// size) and destroys the VMs that were returned. Returns how many clones started.
    /// </summary>
    public async Task<int> TopUpAsync(PoolOptions configured, CancellationToken cancellationToken)
    {
        var pool = _effective.GetValueOrDefault(configured.Name) ?? configured;
        var mark = _executor.CloneMark(pool.Name);
        var tally = await _inventory.GetTallyAsync(pool.Name, cancellationToken);
        var started = _executor.RequestClones(pool, PoolPlanner.ClonesNeeded(pool.Size, tally.Counts), mark);
        foreach (var name in tally.Completed)
        {
            _executor.StartDestroy(pool, name);
        }

        return started;
    }

    /// <summary>Runs one full pass over <paramref name="configured"/> (spec §4.2).</summary>
    public async Task<PassResult> ReconcileAsync(PoolOptions configured, CancellationToken cancellationToken)
    {
        var (pool, drained) = _overrides is null ? (configured, 0) : await ApplyOverridesAsync(configured, cancellationToken);
        _effective[pool.Name] = pool;
        var timings = LifecycleRules.TimingsFor(pool, _options.Config);
        var mark = _executor.CloneMark(pool.Name);
        var busy = _executor.BusyNames();

        // The inventory is read before the provider is listed: a VM whose destroy finishes in between then merely looks
        // missing (and forgetting it again does nothing), instead of looking unknown and being destroyed twice. A VM
        // cloned in between is registered as pending before its clone starts, so it is never taken for unknown.
        var snapshot = await _inventory.GetPoolAsync(pool.Name, cancellationToken);
        IReadOnlyList<string> listed;
        try
        {
            listed = await _executor.CallAsync(c => _executor.ProviderOf(pool).VmsInPoolAsync(pool, c), cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return PassResult.ProviderFailed(ex.Message);
        }

        // A clone that was running when the snapshot was read may have finished since: it stays busy for this pass.
        busy.UnionWith(_executor.BusyNames());
        var plan = PoolPlanner.Plan(new PoolObservation(pool, timings, snapshot, listed.ToHashSet(StringComparer.Ordinal), busy, _time.GetUtcNow()));
        var outcome = await ApplyAsync(pool, timings, plan, cancellationToken);
        var ready = plan.Ready - outcome.FailedReady + outcome.BecameReady;
        var pending = plan.Pending - outcome.BecameReady - outcome.LeftPending;
        NoteEmpty(pool, ready);
        var started = _executor.RequestClones(pool, LifecycleRules.ClonesNeeded(pool.Size, ready, pending), mark);
        pending += started;
        _metrics?.SetPoolCounts(pool.Name, pool.Size, new PoolCounts(pending, ready, snapshot.Running.Count, snapshot.Completed.Count));
        return new PassResult(drained + outcome.Work + started > 0, pending > 0 || snapshot.Pending.Any(PoolPlanner.IsOnDemand), null);
    }

    /// <summary>Moves a pool's ready and pending VMs (not those cloning right now) to completed, so they are destroyed and replaced.</summary>
    public async Task<int> DrainAsync(PoolOptions pool, CancellationToken cancellationToken)
    {
        var snapshot = await _inventory.GetPoolAsync(pool.Name, cancellationToken);
        var drained = 0;
        foreach (var (vm, state) in snapshot.Ready.Select(v => (v, VmState.Ready)).Concat(snapshot.Pending.Select(v => (v, VmState.Pending))))
        {
            if (!_executor.IsBusy(vm.Name) && !PoolPlanner.IsOnDemand(vm)
                && await _inventory.MoveAsync(pool.Name, vm.Name, state, VmState.Completed, cancellationToken: cancellationToken))
            {
                drained++;
            }
        }

        ManagerLog.PoolDrained(_logger, pool.Name, drained);
        return drained;
    }

    /// <summary>The pool with its run-time overrides; a changed template drains the pool once (spec §4.8).</summary>
    private async Task<(PoolOptions Pool, int Drained)> ApplyOverridesAsync(PoolOptions configured, CancellationToken cancellationToken)
    {
        var overrides = await _overrides!.GetAsync(cancellationToken);
        var pool = overrides.Apply(configured);
        var prepared = overrides.Get(PoolOverrideKind.Prepared, pool.Name);
        if (prepared == pool.Template)
        {
            return (pool, 0);
        }

        var drained = 0;
        if (prepared is not null)
        {
            ManagerLog.TemplateChanged(_logger, pool.Name, prepared, pool.Template);
            drained = await DrainAsync(pool, cancellationToken);
        }

        await _overrides.SetAsync(PoolOverrideKind.Prepared, pool.Name, pool.Template, cancellationToken);
        return (pool, drained);
    }

    /// <summary>Logs once when the pool becomes empty, not on every pass while it stays so.</summary>
    private void NoteEmpty(PoolOptions pool, int ready)
    {
        if (pool.Size <= 0)
        {
            return;
        }

        var empty = ready == 0;
        if (empty && !(_emptyFlags.TryGetValue(pool.Name, out var wasEmpty) && wasEmpty))
        {
            ManagerLog.PoolEmpty(_logger, pool.Name);
        }

        _emptyFlags[pool.Name] = empty;
    }

    public ValueTask DisposeAsync() => _executor.DisposeAsync();
}

/// <summary>The outcome of one pass: whether it changed anything, whether VMs are still pending, or why it failed.</summary>
internal sealed record PassResult(bool DidWork, bool HasPending, string? ProviderError)
{
    public static PassResult ProviderFailed(string error) => new(false, false, error);
}
