using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Manager.Execution;

namespace VmPooler.Manager;

/// <summary>The manager's loops: full passes from the work queue, executor signals, global jobs and the jobs of owned pools.</summary>
internal sealed partial class PoolManagerService
{
    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var name = await _queue.DequeueAsync(stoppingToken);
            var state = _states[name];
            try
            {
                if (Owns(name))
                {
                    var result = await _reconciler.ReconcileAsync(state.Pool, stoppingToken);
                    _heartbeat.MarkPass(_time.GetUtcNow());
                    _queue.EnqueueAfter(name, NextDelay(state, result));
                }
                else if (_ownership?.Claims(name) == true)
                {
                    // The lease lapsed while renewals failed, but the pool was not reported lost: a renewal that
                    // succeeds later tells nothing (no pool is gained), so the pool keeps its schedule and its passes
                    // resume by themselves once the lease is fresh again.
                    _queue.EnqueueAfter(name, state.Timings.LoopDelayMin);
                }
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
                Interlocked.Increment(ref state.Attempts);
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

    /// <summary>What the executor says after background work: a top-up, or a full pass, of a pool this manager owns.</summary>
    private async Task SignalsAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var signal in _reconciler.Signals.ReadAllAsync(stoppingToken))
            {
                if (!Owns(signal.Pool))
                {
                    continue;
                }

                if (signal.FullPass)
                {
                    _queue.Enqueue(signal.Pool);
                }
                else
                {
                    _topUps.Trigger(_states[signal.Pool].Pool, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Every manager runs the queued tasks, resets and on-demand clones of the pools it owns.</summary>
    private async Task OwnedJobsAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await _jobs!.RunOwnedOnceAsync(stoppingToken);
            await Task.Delay(_jobs.Interval, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The jobs done once per installation, by the manager that holds the global lease.</summary>
    private async Task GlobalJobsAsync(CancellationToken stoppingToken)
    {
        if (_jobs is null && _history is null)
        {
            return;
        }

        if (_lease is ProcessLocalLease)
        {
            await RunGlobalJobsAsync(stoppingToken);
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            if (!await TryLeaseAsync(stoppingToken))
            {
                await Task.Delay(LeaseRenewal, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            ManagerLog.LeaseAcquired(_logger);
            using var leaseLost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var renewal = RenewLeaseAsync(leaseLost);
            await RunGlobalJobsAsync(leaseLost.Token);
            await leaseLost.CancelAsync();
            await renewal;
            if (!stoppingToken.IsCancellationRequested)
            {
                ManagerLog.LeaseLost(_logger);
            }
        }

        try
        {
            await _lease.ReleaseAsync(_holder, CancellationToken.None);
        }
        catch (InventoryUnavailableException)
        {
            // The lease simply runs out.
        }
    }

    private async Task RunGlobalJobsAsync(CancellationToken cancellationToken)
    {
        var loops = new List<Task>();
        if (_jobs is not null)
        {
            loops.Add(Task.Run(
                async () =>
                {
                    while (!cancellationToken.IsCancellationRequested)
                    {
                        await _jobs.RunGlobalOnceAsync(cancellationToken);
                        await Task.Delay(_jobs.Interval, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    }
                },
                CancellationToken.None));
        }

        if (_history is not null)
        {
            // The dashboard history: sampled by the manager holding the global lease, so once per installation.
            loops.Add(_history.RunAsync(cancellationToken));
        }

        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> TryLeaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _lease.TryAcquireAsync(_holder, LeaseTimeToLive, cancellationToken);
        }
        catch (InventoryUnavailableException ex)
        {
            ManagerLog.LeaseUnavailable(_logger, ex.Message);
            return false;
        }
    }

    /// <summary>Renews the global lease until the manager stops; if another manager holds it now, stops the global jobs here.</summary>
    private async Task RenewLeaseAsync(CancellationTokenSource leaseLost)
    {
        var token = leaseLost.Token;
        while (!token.IsCancellationRequested)
        {
            await Task.Delay(LeaseRenewal, _time, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                if (!token.IsCancellationRequested && !await _lease.TryAcquireAsync(_holder, LeaseTimeToLive, token))
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

    private sealed class PoolState(PoolOptions pool, PoolTimings timings)
    {
        public int Attempts;

        public PoolOptions Pool { get; } = pool;
        public PoolTimings Timings { get; } = timings;
        public TimeSpan Delay { get; set; }
        public int Failures { get; set; }

        /// <summary>Back-off after a failed pass (the manager's one rule, <see cref="Backoff"/>).</summary>
        public TimeSpan Failed()
        {
            Failures++;
            return Backoff.Delay(Failures, Timings.LoopDelayMin, Timings.LoopDelayMax);
        }
    }
}
