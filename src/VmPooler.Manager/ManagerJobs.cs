using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Metrics;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Providers;

namespace VmPooler.Manager;

/// <summary>
/// The manager's work besides the pool passes: queued disk/snapshot/revert tasks (spec §4.9), on-demand requests (§4.7)
/// and pool resets (§2.7), each done by the manager that owns the pool, so it runs where the pool's provider is. Each
/// runs every <see cref="Interval"/> on the injected clock. Unlike the original (one task per queue every 5 s), every
/// queued task is taken at once and run in parallel across VMs, in order for each VM.
/// </summary>
internal sealed class ManagerJobs
{
    /// <summary>How long a ready on-demand request is kept (as the original: 30 days).</summary>
    public static readonly TimeSpan ReadyKeep = TimeSpan.FromDays(30);

    private const int TaskBatch = 64;

    private readonly VmPoolerOptions _options;
    private readonly IInventory _inventory;
    private readonly PoolReconciler _reconciler;
    private readonly IReadOnlyDictionary<string, IVmProvider> _providers;
    private readonly IVmTaskQueue _tasks;
    private readonly IOnDemandStore _onDemand;
    private readonly IPoolOverrideStore _overrides;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly VmPoolerMetrics? _metrics;
    private readonly Dictionary<string, PoolOptions> _pools;
    private DateTimeOffset? _lastRecovery;

    public ManagerJobs(
        VmPoolerOptions options,
        IInventory inventory,
        PoolReconciler reconciler,
        IEnumerable<IVmProvider> providers,
        IVmTaskQueue tasks,
        IOnDemandStore onDemand,
        IPoolOverrideStore overrides,
        TimeProvider timeProvider,
        ILogger<ManagerJobs> logger,
        VmPoolerMetrics? metrics = null)
    {
        _options = options;
        _inventory = inventory;
        _reconciler = reconciler;
        _providers = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);
        _tasks = tasks;
        _onDemand = onDemand;
        _overrides = overrides;
        _time = timeProvider;
        _logger = logger;
        _metrics = metrics;
        _pools = options.Pools.ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    /// <summary>
    /// Whether this manager owns a pool (its per-pool lease): a pool's tasks, resets and on-demand clones are taken only
    /// by its owner, where the pool's provider is (and so no other manager takes its on-demand clones for abandoned).
    /// Default: every pool (a single manager).
    /// </summary>
    public Func<string, bool> OwnsPool { get; private set; } = _ => true;

    /// <summary>Told the name of a pool whose reset drained it, so its owner refills it at once.</summary>
    public Action<string>? PoolDrained { get; private set; }

    /// <summary>Connects the jobs to the manager that runs them (its pool ownership and its pass queue).</summary>
    internal void Bind(Func<string, bool> ownsPool, Action<string> poolDrained)
    {
        OwnsPool = ownsPool;
        PoolDrained = poolDrained;
    }

    /// <summary>How often the jobs look for work.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the holder of the global lease looks for tasks a push or take left unseen (<see cref="IVmTaskQueue.RecoverAsync"/>).</summary>
    public TimeSpan TaskRecoveryInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Runs every job until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await RunOnceAsync(cancellationToken);
            await Task.Delay(Interval, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>One round of every job (tests call this directly).</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await RunGlobalOnceAsync(cancellationToken);
        await RunOwnedOnceAsync(cancellationToken);
    }

    /// <summary>
    /// The jobs done once per installation (by the holder of the global lease): routing tasks an earlier version queued
    /// without their pool, recovering tasks left unseen (every <see cref="TaskRecoveryInterval"/>), and dropping reset
    /// requests of pools no longer configured.
    /// </summary>
    public async Task RunGlobalOnceAsync(CancellationToken cancellationToken)
    {
        await GuardAsync("tasks", () => RouteUnroutedTasksAsync(cancellationToken), cancellationToken);
        await GuardAsync("tasks", () => RecoverTasksAsync(cancellationToken), cancellationToken);
        await GuardAsync("resets", () => _overrides.TakeResetsAsync(p => !_pools.ContainsKey(p), cancellationToken), cancellationToken);
    }

    /// <summary>
    /// The jobs every manager runs for the pools it owns, where their provider is: queued VM tasks, pool resets and
    /// on-demand clones (request bookkeeping is conditional, so safe in several managers).
    /// </summary>
    public async Task RunOwnedOnceAsync(CancellationToken cancellationToken)
    {
        await GuardAsync("tasks", () => RunTasksAsync(cancellationToken), cancellationToken);
        await GuardAsync("resets", () => RunResetsAsync(cancellationToken), cancellationToken);
        await GuardAsync("on-demand", () => RunOnDemandAsync(cancellationToken), cancellationToken);
    }

    /// <summary>Takes the queued tasks of the pools this manager owns and carries them out: tasks of one VM in order, VMs in parallel.</summary>
    public async Task RunTasksAsync(CancellationToken cancellationToken)
    {
        var tasks = await _tasks.DequeueAsync(OwnsPool, TaskBatch, cancellationToken);
        await Task.WhenAll(tasks.GroupBy(t => t.Vm, StringComparer.Ordinal).Select(async group =>
        {
            foreach (var task in group)
            {
                await RunTaskAsync(task, cancellationToken);
            }
        }));
    }

    /// <summary>Moves tasks queued without their pool (by an earlier version) to their VM's pool's queue.</summary>
    public async Task RouteUnroutedTasksAsync(CancellationToken cancellationToken)
    {
        foreach (var task in await _tasks.TakeUnroutedAsync(TaskBatch, cancellationToken))
        {
            var vm = await _inventory.GetVmAsync(task.Vm, cancellationToken);
            if (vm is null)
            {
                ManagerLog.TaskFailed(_logger, "?", task.Vm, task.Kind.ToString().ToLowerInvariant(), task.Argument, "unknown VM");
                continue;
            }

            await _tasks.EnqueueAsync(task with { Pool = vm.Pool }, cancellationToken);
        }
    }

    /// <summary>Every <see cref="TaskRecoveryInterval"/>: makes tasks of configured pools that no take would see visible again.</summary>
    public async Task RecoverTasksAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_lastRecovery is { } last && now - last < TaskRecoveryInterval)
        {
            return;
        }

        _lastRecovery = now;
        if (await _tasks.RecoverAsync(_pools.Keys, cancellationToken) is var recovered and > 0)
        {
            ManagerLog.TasksRecovered(_logger, recovered);
        }
    }

    private async Task RunTaskAsync(VmTask task, CancellationToken cancellationToken)
    {
        var kind = task.Kind.ToString().ToLowerInvariant();
        var vm = await _inventory.GetVmAsync(task.Vm, cancellationToken);
        if (vm is null || !TryProvider(vm.Pool, out var pool, out var provider))
        {
            ManagerLog.TaskFailed(_logger, vm?.Pool ?? "?", task.Vm, kind, task.Argument, "unknown VM or pool");
            return;
        }

        var started = _time.GetTimestamp();
        bool done;
        try
        {
            done = task.Kind switch
            {
                VmTaskKind.Disk => int.TryParse(task.Argument, CultureInfo.InvariantCulture, out var size)
                    && await _reconciler.CallAsync(c => provider.CreateDiskAsync(pool, vm.Name, size, c), cancellationToken),
                VmTaskKind.Snapshot => await _reconciler.CallAsync(c => provider.CreateSnapshotAsync(pool, vm.Name, task.Argument, c), cancellationToken),
                VmTaskKind.Revert => await _reconciler.CallAsync(c => provider.RevertSnapshotAsync(pool, vm.Name, task.Argument, c), cancellationToken),
                _ => false,
            };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            ManagerLog.TaskFailed(_logger, pool.Name, vm.Name, kind, task.Argument, ex.Message);
            return;
        }

        if (!done)
        {
            ManagerLog.TaskFailed(_logger, pool.Name, vm.Name, kind, task.Argument, "the provider refused");
            return;
        }

        var now = _time.GetUtcNow();
        switch (task.Kind)
        {
            case VmTaskKind.Disk:
                // Re-read: another disk of this VM may have been recorded meanwhile (tasks of one VM run in order, but be safe).
                var current = (await _inventory.GetVmAsync(vm.Name, cancellationToken))?.View.Disks ?? [];
                var disks = string.Join(':', [.. current, $"+{task.Argument}gb"]);
                await _inventory.UpdateFieldsAsync(vm.Name, new Dictionary<string, string> { [VmFields.Disk] = disks }, cancellationToken: cancellationToken);
                break;
            case VmTaskKind.Snapshot:
                await _inventory.UpdateFieldsAsync(
                    vm.Name,
                    new Dictionary<string, string> { [VmFields.SnapshotPrefix + task.Argument] = VmTime.Format(now) },
                    cancellationToken: cancellationToken);
                break;
            default:
                break;
        }

        ManagerLog.TaskDone(_logger, pool.Name, vm.Name, kind, task.Argument, Math.Round(_time.GetElapsedTime(started).TotalSeconds, 2));
    }

    /// <summary>Drains the pools whose reset was requested.</summary>
    public async Task RunResetsAsync(CancellationToken cancellationToken)
    {
        foreach (var name in await _overrides.TakeResetsAsync(p => _pools.ContainsKey(p) && OwnsPool(p), cancellationToken))
        {
            if (_pools.TryGetValue(name, out var pool))
            {
                await _reconciler.DrainAsync(pool, cancellationToken);
                PoolDrained?.Invoke(pool.Name);
            }
        }
    }

    /// <summary>
    /// For each pending on-demand request: fail it when its TTL has passed (returning what it got), mark it ready when
    /// every VM was delivered, otherwise start the clones it still lacks.
    /// </summary>
    public async Task RunOnDemandAsync(CancellationToken cancellationToken)
    {
        var ids = await _onDemand.PendingAsync(cancellationToken);
        if (ids.Count == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var ttl = _options.Config.OnDemandRequestTtl;
        var keepFailed = _options.Redis?.DataTtl ?? GlobalOptions.DefaultDataTtl;
        var snapshots = new Dictionary<string, PoolSnapshot>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            var request = await _onDemand.GetAsync(id, cancellationToken);
            if (request is not { Status: OnDemandStatus.Pending })
            {
                continue;
            }

            if (request.IsComplete)
            {
                if (await _onDemand.SetStatusAsync(id, OnDemandStatus.Pending, OnDemandStatus.Ready, ReadyKeep, null, cancellationToken))
                {
                    ManagerLog.OnDemandFinished(_logger, id, "ready");
                }

                continue;
            }

            if (now - request.Created > ttl)
            {
                var reason = $"not all instances were ready within ondemand_request_ttl ({_options.Config.OnDemandRequestTtl.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes)";
                await FailAsync(request, reason, keepFailed, cancellationToken);
                continue;
            }

            // Failed VMs are retried (the clones below replace them) up to max_vm_retries in all; an error that retrying
            // cannot fix ends the request at the first (spec §4.7, 3.8+). The original counted simultaneous failures of one
            // pool as one retry; here every failed VM counts.
            var maxRetries = _options.Config.MaxVmRetries;
            if (request.PermanentError || request.RetryCount > maxRetries)
            {
                var reason = request.PermanentError
                    ? $"an instance failed with an error retrying cannot fix: {request.LastError}"
                    : $"{request.RetryCount.ToString(CultureInfo.InvariantCulture)} instances failed, more than max_vm_retries ({maxRetries.ToString(CultureInfo.InvariantCulture)}); the last: {request.LastError}";
                if (await FailAsync(request, reason, keepFailed, cancellationToken))
                {
                    foreach (var pool in request.Entries.Select(e => e.Pool).Distinct(StringComparer.Ordinal))
                    {
                        _metrics?.Error("permanently_failed", pool);
                    }
                }

                continue;
            }

            foreach (var entry in request.Entries)
            {
                if (!_pools.TryGetValue(entry.Pool, out var pool) || !OwnsPool(pool.Name))
                {
                    continue;
                }

                if (!snapshots.TryGetValue(pool.Name, out var snapshot))
                {
                    snapshots[pool.Name] = snapshot = await _inventory.GetPoolAsync(pool.Name, cancellationToken);
                }

                var inFlight = snapshot.Pending.Count(v => v.View.RequestId == id && (v.View.RequestName ?? pool.Name) == entry.Requested);
                var needed = entry.Count - request.DeliveredCount(entry) - inFlight;
                if (needed > 0)
                {
                    var started = await _reconciler.StartOnDemandClonesAsync(pool, id, entry.Requested, needed, cancellationToken);
                    if (started > 0)
                    {
                        snapshots.Remove(pool.Name);
                    }
                }
            }
        }
    }

    /// <summary>Fails a pending request with <paramref name="reason"/> and returns the VMs it was given; false when it was no longer pending.</summary>
    private async Task<bool> FailAsync(OnDemandRequest request, string reason, TimeSpan keepFailed, CancellationToken cancellationToken)
    {
        if (!await _onDemand.SetStatusAsync(request.Id, OnDemandStatus.Pending, OnDemandStatus.Failed, keepFailed, reason, cancellationToken))
        {
            return false;
        }

        ManagerLog.OnDemandFailed(_logger, request.Id, reason);
        ManagerLog.OnDemandFinished(_logger, request.Id, "failed");
        var failed = await _onDemand.GetAsync(request.Id, cancellationToken) ?? request;
        foreach (var vm in failed.DeliveredVms)
        {
            await _inventory.ReturnAsync(vm, cancellationToken);
        }

        return true;
    }

    private bool TryProvider(string poolName, [NotNullWhen(true)] out PoolOptions? pool, [NotNullWhen(true)] out IVmProvider? provider)
    {
        provider = null;
        return _pools.TryGetValue(poolName, out pool) && _providers.TryGetValue(pool.Provider, out provider);
    }

    private async Task GuardAsync(string job, Func<Task> run, CancellationToken cancellationToken)
    {
        try
        {
            await run();
        }
        catch (InventoryUnavailableException ex) when (!cancellationToken.IsCancellationRequested)
        {
            ManagerLog.InventoryUnavailable(_logger, job, Interval, ex.Message);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            ManagerLog.PassFailed(_logger, ex, job, Interval);
        }
    }
}
