using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;

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
    private readonly TimeProvider _time;
    private readonly ILogger<PoolManagerService> _logger;
    private readonly PoolWorkQueue _queue;
    private readonly Dictionary<string, PoolState> _states;

    public PoolManagerService(
        VmPoolerOptions options,
        IInventory inventory,
        PoolReconciler reconciler,
        TimeProvider timeProvider,
        ILogger<PoolManagerService> logger)
    {
        _options = options;
        _inventory = inventory;
        _reconciler = reconciler;
        _time = timeProvider;
        _logger = logger;
        _queue = new PoolWorkQueue(timeProvider);
        _states = options.Pools.ToDictionary(
            p => p.Name,
            p => new PoolState(p, LifecycleRules.TimingsFor(p, options.Config)),
            StringComparer.Ordinal);
        _reconciler.PoolNeedsPass = _queue.Enqueue;
    }

    /// <summary>Number of passes completed, per pool (for tests and diagnostics).</summary>
    public int PassCount(string pool) => _states.TryGetValue(pool, out var state) ? Volatile.Read(ref state.Passes) : 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ManagerLog.Starting(_logger, _options.Pools.Count, _options.Config.TaskLimit);
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
            await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => WorkAsync(stoppingToken)));
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
                _queue.EnqueueAfter(name, NextDelay(state, result));
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
