using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;
using VmPooler.Core.Metrics;
using VmPooler.Manager.Ownership;

namespace VmPooler.Manager;

/// <summary>
/// The pool manager (DESIGN.md "Pool manager"): owns its share of the pools through per-pool leases and keeps each one
/// it owns full. Triggers: a checkout or a return tops the pool up from its counts at once (<see cref="PoolTopUps"/>);
/// the periodic full pass runs on each pool's own pacing (spec §4.2: <c>check_loop_delay_min</c> after a pass that did
/// work or while VMs are pending, growing by <c>check_loop_delay_decay</c> up to <c>check_loop_delay_max</c> when idle)
/// and is retried with back-off when the provider fails. Every manager runs the queued VM tasks, resets and on-demand
/// clones of the pools it owns; the few global jobs (history, routing tasks queued by an earlier version) run in the one
/// manager holding the global lease.
/// </summary>
internal sealed partial class PoolManagerService : BackgroundService
{
    private readonly VmPoolerOptions _options;
    private readonly IInventory _inventory;
    private readonly PoolReconciler _reconciler;
    private readonly IManagerLease _lease;
    private readonly TimeProvider _time;
    private readonly ILogger<PoolManagerService> _logger;
    private readonly PoolWorkQueue _queue;
    private readonly ManagerJobs? _jobs;
    private readonly HistoryRecorder? _history;
    private readonly Dictionary<string, PoolState> _states;
    private readonly ManagerHeartbeat _heartbeat;
    private readonly PoolOwnership? _ownership;
    private readonly PoolTopUps _topUps;
    private readonly string _holder;

    public PoolManagerService(
        VmPoolerOptions options,
        IInventory inventory,
        PoolReconciler reconciler,
        TimeProvider timeProvider,
        ILogger<PoolManagerService> logger,
        IManagerLease? lease = null,
        ManagerJobs? jobs = null,
        ManagerHeartbeat? heartbeat = null,
        HistoryRecorder? history = null,
        IPoolLeaseStore? leases = null,
        ManagerIdentity? identity = null)
    {
        _jobs = jobs;
        _heartbeat = heartbeat ?? new ManagerHeartbeat();
        _history = history;
        _lease = lease ?? new ProcessLocalLease();
        _options = options;
        _inventory = inventory;
        _reconciler = reconciler;
        _time = timeProvider;
        _logger = logger;
        _queue = new PoolWorkQueue(timeProvider) { MinSpacing = DefaultEventPassSpacing };
        _states = options.Pools.ToDictionary(
            p => p.Name,
            p => new PoolState(p, Core.Lifecycle.LifecycleRules.TimingsFor(p, options.Config)),
            StringComparer.Ordinal);
        identity ??= new ManagerIdentity($"{Environment.MachineName}:{Environment.ProcessId}", new Dictionary<string, string>());
        _holder = identity.Id;
        _ownership = leases is null
            ? null
            : new PoolOwnership(leases, identity, options, timeProvider, logger, pools => Task.WhenAll(pools.Select(reconciler.WhenPoolIdleAsync)));
        _topUps = new PoolTopUps(reconciler, logger);
        jobs?.Bind(Owns, pool =>
        {
            if (Owns(pool))
            {
                _queue.Enqueue(pool);
            }
        });
    }

    /// <summary>The default of <see cref="EventPassSpacing"/>: 50 ms between full passes that an event asked for.</summary>
    public static readonly TimeSpan DefaultEventPassSpacing = TimeSpan.FromMilliseconds(50);

    /// <summary>The least time between two full passes over one pool asked for by events (a failed first ready check, a reset).</summary>
    public TimeSpan EventPassSpacing
    {
        get => _queue.MinSpacing;
        init => _queue.MinSpacing = value;
    }

    /// <summary>How long the global lease (history, task routing) lasts without renewal, and how often it is renewed.</summary>
    public static readonly TimeSpan LeaseTimeToLive = TimeSpan.FromSeconds(15);

    public static readonly TimeSpan LeaseRenewal = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many times a pool's full pass fell due and was taken from the queue, per pool (for tests and diagnostics):
    /// passes that ran or failed, and those skipped while the pool's lease was not fresh.
    /// </summary>
    public int PassAttempts(string pool) => _states.TryGetValue(pool, out var state) ? Volatile.Read(ref state.Attempts) : 0;

    /// <summary>The pools this manager owns now (every pool without per-pool leases).</summary>
    public IReadOnlyCollection<string> OwnedPools => _ownership?.Owned ?? (IReadOnlyCollection<string>)_states.Keys;

    private bool Owns(string pool) => _states.ContainsKey(pool) && (_ownership?.Owns(pool) ?? true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _heartbeat.MarkRunning(true);
        try
        {
            ManagerLog.Starting(_logger, _options.Pools.Count, _options.Config.TaskLimit);
            await RunAsync(stoppingToken);
        }
        finally
        {
            _heartbeat.MarkRunning(false);
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        using var subscription = _inventory.SubscribePoolChanges(pool =>
        {
            if (Owns(pool))
            {
                _topUps.Trigger(_states[pool].Pool, stoppingToken);
            }
        });

        var workers = Math.Clamp(_options.Pools.Count, 1, Math.Max(4, Environment.ProcessorCount * 2));
        var loops = Enumerable.Range(0, workers).Select(_ => WorkAsync(stoppingToken)).ToList();
        loops.Add(SignalsAsync(stoppingToken));
        loops.Add(GlobalJobsAsync(stoppingToken));
        if (_jobs is not null)
        {
            loops.Add(OwnedJobsAsync(stoppingToken));
        }

        if (_ownership is null)
        {
            PoolsChanged(_states.Keys, []);
        }
        else
        {
            // Nothing is owned until the first leases are taken (and a manager whose labels select no pool never owns one).
            _heartbeat.MarkStandingBy(true);
            loops.Add(_ownership.RunAsync(PoolsChanged, stoppingToken));
        }

        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await _topUps.WhenIdleAsync();
        }
    }

    /// <summary>Gained pools get a full pass at once; lost ones stop their clones here.</summary>
    private void PoolsChanged(IReadOnlyCollection<string> gained, IReadOnlyCollection<string> lost)
    {
        // A manager that owns no pool (others own them all, or its labels select none) makes no passes: /readyz says so
        // instead of waiting for a pass that will not come.
        _heartbeat.MarkStandingBy(!_states.Keys.Any(pool => _ownership?.Claims(pool) ?? true));
        foreach (var pool in lost)
        {
            _reconciler.Release(pool);
        }

        foreach (var pool in gained)
        {
            _reconciler.Resume(pool);
            _queue.Enqueue(pool);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _queue.Dispose();
    }

    public override void Dispose()
    {
        _queue.Dispose();
        base.Dispose();
    }
}
