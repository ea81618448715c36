using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Core.Metrics;

namespace VmPooler.Manager;

/// <summary>
/// The pool manager: a reconciler loop over every configured pool. A pool gets a pass at once when something happens
/// to it (a checkout, a return, a finished clone) and otherwise on its own pacing (spec §4.2: <c>check_loop_delay_min</c>
/// after a pass that did work or while VMs are pending, growing by <c>check_loop_delay_decay</c> up to
/// <c>check_loop_delay_max</c> when idle). A pool whose provider fails is retried with back-off, never hammered.
/// </summary>
public sealed class PoolManagerService : BackgroundService
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

    public PoolManagerService(
        VmPoolerOptions options,
        IInventory inventory,
        PoolReconciler reconciler,
        TimeProvider timeProvider,
        ILogger<PoolManagerService> logger,
        IManagerLease? lease = null,
        ManagerJobs? jobs = null,
        ManagerHeartbeat? heartbeat = null,
        HistoryRecorder? history = null)
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
            p => new PoolState(p, LifecycleRules.TimingsFor(p, options.Config)),
            StringComparer.Ordinal);
        _reconciler.PoolNeedsPass = _queue.Enqueue;
    }

    /// <summary>The default of <see cref="EventPassSpacing"/>: 50 ms (measured in docs/benchmarks.md: +59 % checkouts/s on Redis at 8 clients, replacement latency unchanged).</summary>
    public static readonly TimeSpan DefaultEventPassSpacing = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The least time between two passes over one pool started by events (checkouts, returns, finished clones); events
    /// within it coalesce into one pass at its end (see <see cref="PoolWorkQueue.MinSpacing"/>).
    /// </summary>
    public TimeSpan EventPassSpacing
    {
        get => _queue.MinSpacing;
        init => _queue.MinSpacing = value;
    }

    /// <summary>Number of passes completed, per pool (for tests and diagnostics).</summary>
    public int PassCount(string pool) => _states.TryGetValue(pool, out var state) ? Volatile.Read(ref state.Passes) : 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _heartbeat.MarkRunning(true);
        try
        {
            await ManageAsync(stoppingToken);
        }
        finally
        {
            _heartbeat.MarkRunning(false);
        }
    }

    private async Task ManageAsync(CancellationToken stoppingToken)
    {
        ManagerLog.Starting(_logger, _options.Pools.Count, _options.Config.TaskLimit);
        if (_lease is ProcessLocalLease)
        {
            // One process owns the embedded inventory: nothing to share, nothing to renew.
            await RunPoolsAsync(stoppingToken);
            return;
        }

        var holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        var standingBy = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!await TryLeaseAsync(holder, stoppingToken))
            {
                if (!standingBy)
                {
                    ManagerLog.StandingBy(_logger, LeaseTimeToLive);
                    standingBy = true;
                    _heartbeat.MarkStandingBy(true);
                }

                await Task.Delay(LeaseRenewal, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            standingBy = false;
            _heartbeat.MarkStandingBy(false);
            ManagerLog.LeaseAcquired(_logger);
            using var leaseLost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var renewal = RenewLeaseAsync(holder, leaseLost);
            await RunPoolsAsync(leaseLost.Token);
            await leaseLost.CancelAsync();
            await renewal;
            if (!stoppingToken.IsCancellationRequested)
            {
                ManagerLog.LeaseLost(_logger);
            }
        }

        try
        {
            await _lease.ReleaseAsync(holder, CancellationToken.None);
        }
        catch (InventoryUnavailableException)
        {
            // The lease simply runs out.
        }
    }

    /// <summary>How long the manager lease lasts without renewal, and how often the holder renews it.</summary>
    public static readonly TimeSpan LeaseTimeToLive = TimeSpan.FromSeconds(15);

    public static readonly TimeSpan LeaseRenewal = TimeSpan.FromSeconds(5);

    private async Task<bool> TryLeaseAsync(string holder, CancellationToken cancellationToken)
    {
        try
        {
            return await _lease.TryAcquireAsync(holder, LeaseTimeToLive, cancellationToken);
        }
        catch (InventoryUnavailableException ex)
        {
            ManagerLog.LeaseUnavailable(_logger, ex.Message);
            return false;
        }
    }

    /// <summary>Renews the lease until the manager stops; if another manager holds it now, stops this one's passes.</summary>
    private async Task RenewLeaseAsync(string holder, CancellationTokenSource leaseLost)
    {
        var token = leaseLost.Token;
        while (!token.IsCancellationRequested)
        {
            await Task.Delay(LeaseRenewal, _time, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (token.IsCancellationRequested)
            {
                return;
            }

            try
            {
                if (!await _lease.TryAcquireAsync(holder, LeaseTimeToLive, token))
                {
                    await leaseLost.CancelAsync();
                    return;
                }
            }
            catch (InventoryUnavailableException ex)
            {
                // Nothing works while the inventory is away anyway; keep going and renew when it is back.
                ManagerLog.LeaseUnavailable(_logger, ex.Message);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task RunPoolsAsync(CancellationToken stoppingToken)
    {
        using var subscription = _inventory.SubscribePoolChanges(pool =>
        {
            if (_states.ContainsKey(pool))
            {
                _queue.Enqueue(pool);
            }
        });

        foreach (var pool in _options.Pools)
        {
            _queue.Enqueue(pool.Name);
        }

        var workers = Math.Clamp(_options.Pools.Count, 1, Math.Max(4, Environment.ProcessorCount * 2));
        try
        {
            var loops = Enumerable.Range(0, workers).Select(_ => WorkAsync(stoppingToken)).ToList();
            if (_jobs is not null)
            {
                loops.Add(_jobs.RunAsync(stoppingToken));
            }

            if (_history is not null)
            {
                // The dashboard history: sampled by the manager holding the lease, so once per installation.
                loops.Add(_history.RunAsync(stoppingToken));
            }

            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var name = await _queue.DequeueAsync(stoppingToken);
            var state = _states[name];
            try
            {
                var result = await _reconciler.ReconcileAsync(state.Pool, stoppingToken);
                _heartbeat.MarkPass(_time.GetUtcNow());
                _queue.EnqueueAfter(name, NextDelay(state, result));
            }
            catch (InventoryUnavailableException ex) when (!stoppingToken.IsCancellationRequested)
            {
                var delay = state.Failed();
                ManagerLog.InventoryUnavailable(_logger, name, delay, ex.Message);
                _queue.EnqueueAfter(name, delay);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                var delay = state.Failed();
                ManagerLog.PassFailed(_logger, ex, name, delay);
                _queue.EnqueueAfter(name, delay);
            }
            finally
            {
                Interlocked.Increment(ref state.Passes);
                _queue.Done(name);
            }
        }
    }

    private TimeSpan NextDelay(PoolState state, PassResult result)
    {
        if (result.ProviderError is { } error)
        {
            var delay = state.Failed();
            ManagerLog.InventoryFailed(_logger, state.Pool.Name, delay, error);
            return delay;
        }

        state.Failures = 0;
        state.Delay = LifecycleRules.NextLoopDelay(state.Delay, result.DidWork || result.HasPending, state.Timings);
        if (_reconciler.CloneBackoffUntil(state.Pool.Name) is { } until)
        {
            var untilBackoff = until - _time.GetUtcNow();
            return untilBackoff < state.Delay ? untilBackoff : state.Delay;
        }

        return state.Delay;
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

    private sealed class PoolState(PoolOptions pool, PoolTimings timings)
    {
        public int Passes;

        public PoolOptions Pool { get; } = pool;
        public PoolTimings Timings { get; } = timings;
        public TimeSpan Delay { get; set; }
        public int Failures { get; set; }

        /// <summary>Back-off after a failed pass: min × 2^failures, up to max.</summary>
        public TimeSpan Failed()
        {
            Failures++;
            var ticks = Timings.LoopDelayMin.Ticks * Math.Pow(2, Math.Min(Failures - 1, 20));
            return TimeSpan.FromTicks((long)Math.Min(ticks, Timings.LoopDelayMax.Ticks));
        }
    }
}
