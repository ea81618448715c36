using System.Globalization;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Core.Operations;
using VmPooler.Core.Providers;
using VmPooler.Manager.Planning;

namespace VmPooler.Manager;

/// <summary>The steps of a full pass: each carries out one part of the plan against the inventory and the executor.</summary>
internal sealed partial class PoolReconciler
{
    /// <summary>Carries out a plan in order; what the checks found changes the pool's counts.</summary>
    private async Task<PassOutcome> ApplyAsync(PoolOptions pool, PoolTimings timings, PoolPlan plan, CancellationToken cancellationToken)
    {
        var work = await AdoptAsync(pool, plan.Adopt, cancellationToken);
        work += await CompleteAsync(pool, plan.Complete, cancellationToken);
        var failedReady = await CheckReadyVmsAsync(pool, plan.CheckReady, cancellationToken);
        var pending = await CheckPendingVmsAsync(pool, timings, plan.CheckPending, cancellationToken);
        work += await ForgetVanishedAsync(pool, plan.ForgetPending, cancellationToken);
        foreach (var name in plan.Destroy)
        {
            _executor.StartDestroy(pool, name);
        }

        work += await ForgetCompletedAsync(pool, plan.ForgetCompleted, cancellationToken);
        return new PassOutcome(work + failedReady + pending.BecameReady + pending.LeftPending, failedReady, pending.BecameReady, pending.LeftPending);
    }

    /// <summary>VMs the provider has and the inventory does not know: tracked as completed, then destroyed.</summary>
    private async Task<int> AdoptAsync(PoolOptions pool, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var adopted = 0;
        foreach (var name in names)
        {
            var fields = new Dictionary<string, string>
            {
                [VmFields.Template] = pool.Name,
                [VmFields.Pool] = pool.Name,
                [VmFields.Discovered] = VmTime.Format(_time.GetUtcNow()),
            };
            if (await _inventory.AdoptDiscoveredAsync(pool.Name, name, fields, cancellationToken))
            {
                ManagerLog.Discovered(_logger, pool.Name, name);
                _executor.StartDestroy(pool, name);
                adopted++;
            }
        }

        return adopted;
    }

    /// <summary>Running and ready VMs the plan retires: moved to completed (conditionally), then destroyed unless missing.</summary>
    private async Task<int> CompleteAsync(PoolOptions pool, IReadOnlyList<VmCompletion> completions, CancellationToken cancellationToken)
    {
        var done = 0;
        foreach (var c in completions)
        {
            if (!await _inventory.MoveAsync(pool.Name, c.Vm.Name, c.From, VmState.Completed, expect: c.Expect, cancellationToken: cancellationToken))
            {
                continue;
            }

            done++;
            LogCompletion(pool, c);
            if (c.Destroy)
            {
                _executor.StartDestroy(pool, c.Vm.Name);
            }
        }

        return done;
    }

    private void LogCompletion(PoolOptions pool, VmCompletion c)
    {
        var now = _time.GetUtcNow();
        switch (c.Reason)
        {
            case CompletionReason.Missing:
                ManagerLog.Missing(_logger, pool.Name, c.Vm.Name, c.From == VmState.Running ? "running" : "ready");
                break;
            case CompletionReason.LifetimeOver:
                ManagerLog.RunningExpired(_logger, pool.Name, c.Vm.Name, c.Vm.View.LifetimeHours(_options.Config.VmLifetime.TotalHours));
                break;
            case CompletionReason.ReadyTtl:
                ManagerLog.ReadyExpired(_logger, pool.Name, c.Vm.Name, Math.Round((now - (c.Vm.View.Ready ?? now)).TotalMinutes, 1));
                break;
            default:
                ManagerLog.Excess(_logger, pool.Name, c.Vm.Name);
                break;
        }
    }

    /// <summary>Health-checks ready VMs due for it; those that fail are completed and destroyed. Returns how many failed.</summary>
    private async Task<int> CheckReadyVmsAsync(PoolOptions pool, IReadOnlyList<VmRecord> vms, CancellationToken cancellationToken)
    {
        var failed = 0;
        if (vms.Count > 0)
        {
            // The checks' time stamps, all in one inventory call before the checks start.
            await _inventory.SetFieldAsync(pool.Name, [.. vms.Select(v => v.Name)], VmFields.Check, VmTime.Format(_time.GetUtcNow()), cancellationToken);
        }

        await ForEachAsync(vms, cancellationToken, async (vm, ct) =>
        {
            var result = await _executor.CheckReadyAsync(pool, vm.Name, ct);
            if (!result.IsReady
                && await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Ready, VmState.Completed, OpenSocketError(result), cancellationToken: ct))
            {
                ManagerLog.ReadyCheckFailed(_logger, pool.Name, vm.Name, result.Error ?? "not ready");
                await (_deadLetters?.RecordAsync(pool.Name, vm.Name, DeadLetterKind.Ready, result.Error ?? "not ready", 1, ct) ?? Task.CompletedTask);
                Interlocked.Increment(ref failed);
                _executor.StartDestroy(pool, vm.Name);
            }
        });
        return failed;
    }

    /// <summary>Ready-checks pending VMs whose clone is not running here: ready, delivered, warned, or given up on.</summary>
    private async Task<(int BecameReady, int LeftPending)> CheckPendingVmsAsync(PoolOptions pool, PoolTimings timings, IReadOnlyList<VmRecord> vms, CancellationToken cancellationToken)
    {
        var becameReady = 0;
        var left = 0;
        await ForEachAsync(vms, cancellationToken, async (vm, ct) =>
        {
            var check = await _executor.CheckReadyAsync(pool, vm.Name, ct);
            var now = _time.GetUtcNow();
            switch (PoolPlanner.DecidePending(vm, check, timings, now))
            {
                case PendingDecision.MarkReady when await _executor.MarkReadyAsync(pool, vm, now, ct):
                    Interlocked.Increment(ref becameReady);
                    break;
                case PendingDecision.Deliver:
                    await _executor.DeliverAsync(pool, vm, now, ct);
                    break;
                case PendingDecision.Notify:
                    await NotifySlowAsync(pool, timings, vm, check, ct);
                    break;
                case PendingDecision.TimeOut or PendingDecision.Abandon when await GiveUpAsync(pool, timings, vm, check, ct) && !PoolPlanner.IsOnDemand(vm):
                    Interlocked.Increment(ref left);
                    break;
                default:
                    break;
            }
        });
        return (becameReady, left);
    }

    private async Task NotifySlowAsync(PoolOptions pool, PoolTimings timings, VmRecord vm, ReadyCheckResult check, CancellationToken cancellationToken)
    {
        var notified = OpenSocketError(check) ?? [];
        notified[VmFields.TimeoutNotification] = "1";
        await _inventory.UpdateFieldsAsync(vm.Name, notified, cancellationToken: cancellationToken);
        ManagerLog.PendingSlow(_logger, pool.Name, vm.Name, timings.TimeoutNotification.TotalMinutes, check.Error ?? "not ready");
    }

    /// <summary>A pending VM past its timeout, or whose clone can no longer finish: completed, destroyed, replaced.</summary>
    private async Task<bool> GiveUpAsync(PoolOptions pool, PoolTimings timings, VmRecord vm, ReadyCheckResult check, CancellationToken cancellationToken)
    {
        if (!await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Pending, VmState.Completed, OpenSocketError(check), cancellationToken: cancellationToken))
        {
            return false;
        }

        var reason = check.Error ?? "not ready";
        if (check.Abandoned)
        {
            ManagerLog.PendingAbandoned(_logger, pool.Name, vm.Name, reason);
            await (_deadLetters?.RecordAsync(pool.Name, vm.Name, DeadLetterKind.Pending, reason, 1, cancellationToken) ?? Task.CompletedTask);
        }
        else
        {
            ManagerLog.PendingTimedOut(_logger, pool.Name, vm.Name, timings.Timeout.TotalMinutes, reason);
            _metrics?.Error("markedasfailed", pool.Name);
            await (_deadLetters?.RecordAsync(pool.Name, vm.Name, DeadLetterKind.Pending, $"not ready within {timings.Timeout.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes: {reason}", 1, cancellationToken) ?? Task.CompletedTask);
        }

        if (vm.View.RequestId is { Length: > 0 } requestId)
        {
            var error = check.Abandoned ? reason : $"not ready within {timings.Timeout.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes: {reason}";
            await _executor.OnDemand.RecordFailureAsync(pool.Name, vm.Name, requestId, check.Abandoned ? "abandoned" : "timeout", error, permanent: false, cancellationToken);
        }

        _executor.StartDestroy(pool, vm.Name);
        return true;
    }

    /// <summary>
    /// Pending VMs the provider does not have while no clone of them runs here: their clone finished and the VM vanished,
    /// or a manager that died registered them, or a request that timed out did and never cloned. They will never become
    /// ready, so they stop counting towards the pool at once (spec Q18).
    /// </summary>
    private async Task<int> ForgetVanishedAsync(PoolOptions pool, IReadOnlyList<VmRecord> vms, CancellationToken cancellationToken)
    {
        var forgotten = 0;
        foreach (var vm in vms)
        {
            if (!await _inventory.ForgetAsync(pool.Name, vm.Name, VmState.Pending, _executor.DataTtl, cancellationToken: cancellationToken))
            {
                continue;
            }

            forgotten++;
            ManagerLog.PendingVanished(_logger, pool.Name, vm.Name);
            if (vm.View.RequestId is { Length: > 0 } requestId)
            {
                await _executor.OnDemand.RecordFailureAsync(pool.Name, vm.Name, requestId, "vanished", "not found in the provider", permanent: false, cancellationToken);
            }
        }

        return forgotten;
    }

    /// <summary>Completed VMs the provider no longer has: forgotten (their metadata kept for <c>data_ttl</c>).</summary>
    private async Task<int> ForgetCompletedAsync(PoolOptions pool, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var forgotten = 0;
        foreach (var name in names)
        {
            if (await _executor.ForgetDestroyedAsync(pool, name, cancellationToken))
            {
                forgotten++;
            }
        }

        return forgotten;
    }

    private static Task ForEachAsync<T>(IReadOnlyList<T> items, CancellationToken cancellationToken, Func<T, CancellationToken, ValueTask> body)
        => items.Count == 0
            ? Task.CompletedTask
            : Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = CheckParallelism, CancellationToken = cancellationToken }, body);

    private static Dictionary<string, string>? OpenSocketError(ReadyCheckResult result)
        => result.Error is { } error ? new Dictionary<string, string> { [VmFields.OpenSocketError] = error } : null;

    /// <summary>What carrying out a plan changed: work done, ready VMs that failed their check, pending VMs that became ready or left.</summary>
    private readonly record struct PassOutcome(int Work, int FailedReady, int BecameReady, int LeftPending);
}
