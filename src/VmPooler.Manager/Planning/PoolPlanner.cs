using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Core.Providers;

namespace VmPooler.Manager.Planning;

/// <summary>
/// The pool manager's decisions as pure functions (DESIGN.md "Pool manager"): from what a pass observed and the time
/// it observed it, the actions to take. No I/O and no clock: every lifecycle rule is a row in the planner's tests.
/// </summary>
internal static class PoolPlanner
{
    /// <summary>The actions of one full pass over a pool (spec §4.2).</summary>
    public static PoolPlan Plan(PoolObservation observation)
    {
        var o = observation;
        var running = ExpiredRunning(o);
        var (readyGone, checkReady) = ReadyVms(o);
        var ready = o.Snapshot.Ready.Count - readyGone.Count;
        var excess = ExcessReady(o, readyGone, ready);
        ready -= excess.Count;

        var pending = o.Snapshot.Pending.Where(vm => !o.Busy.Contains(vm.Name)).ToList();
        var forgetPending = pending.Where(vm => !o.Listed.Contains(vm.Name)).ToList();
        var checkPending = pending.Where(vm => o.Listed.Contains(vm.Name)).ToList();
        var pendingCount = o.Snapshot.Pending.Count(vm => !IsOnDemand(vm)) - forgetPending.Count(vm => !IsOnDemand(vm));

        var completed = o.Snapshot.Completed.Where(vm => !o.Busy.Contains(vm.Name)).ToList();
        return new PoolPlan(
            Adopt: UnknownVms(o),
            Complete: [.. running, .. readyGone, .. excess],
            CheckReady: checkReady,
            CheckPending: checkPending,
            ForgetPending: forgetPending,
            Destroy: [.. completed.Where(vm => o.Listed.Contains(vm.Name)).Select(vm => vm.Name)],
            ForgetCompleted: [.. completed.Where(vm => !o.Listed.Contains(vm.Name)).Select(vm => vm.Name)],
            Ready: ready,
            Pending: pendingCount,
            Clones: LifecycleRules.ClonesNeeded(o.Pool.Size, ready, pendingCount));
    }

    /// <summary>How many clones the pool needs from its counts alone (the event path: no VM is read).</summary>
    public static int ClonesNeeded(int size, PoolCounts counts) => LifecycleRules.ClonesNeeded(size, counts.Ready, counts.PoolPending);

    /// <summary>What a pending VM's ready check means (spec §4.3).</summary>
    public static PendingDecision DecidePending(VmRecord vm, ReadyCheckResult check, PoolTimings timings, DateTimeOffset now)
    {
        if (check.IsReady)
        {
            return IsOnDemand(vm) ? PendingDecision.Deliver : PendingDecision.MarkReady;
        }

        if (check.Abandoned)
        {
            return PendingDecision.Abandon;
        }

        return LifecycleRules.EvaluatePending(vm.View, timings, now) switch
        {
            PendingVerdict.TimedOut => PendingDecision.TimeOut,
            PendingVerdict.Notify => PendingDecision.Notify,
            _ => PendingDecision.Wait,
        };
    }

    /// <summary>True for a VM cloned for an on-demand request (not the pool's: it does not count towards its size).</summary>
    public static bool IsOnDemand(VmRecord vm) => vm.View.IsOnDemand;

    /// <summary>VMs the provider has and the inventory does not know, nor is this manager cloning them: adopt, then destroy.</summary>
    private static List<string> UnknownVms(PoolObservation o)
    {
        var known = o.Snapshot.Names();
        return [.. o.Listed.Where(name => !o.Busy.Contains(name) && !known.Contains(name)).Order(StringComparer.Ordinal)];
    }

    /// <summary>Running VMs gone from the provider or past their lifetime (spec §4.5).</summary>
    private static List<VmCompletion> ExpiredRunning(PoolObservation o)
    {
        var completions = new List<VmCompletion>();
        foreach (var vm in o.Snapshot.Running.Where(vm => !o.Busy.Contains(vm.Name)))
        {
            var missing = !o.Listed.Contains(vm.Name);
            if (missing || LifecycleRules.IsRunningExpired(vm.View, o.Timings.DefaultLifetime, o.Now))
            {
                // Compared raw by the inventory's move: the values exactly as stored.
                var expect = new Dictionary<string, string?>
                {
                    [VmFields.Checkout] = vm.Get(VmFields.Checkout),
                    [VmFields.Lifetime] = vm.Get(VmFields.Lifetime),
                };
                completions.Add(new VmCompletion(vm, VmState.Running, missing ? CompletionReason.Missing : CompletionReason.LifetimeOver, expect));
            }
        }

        return completions;
    }

    /// <summary>Ready VMs: gone or past <c>ready_ttl</c> → completed; due for a health check → checked (spec §4.4).</summary>
    private static (List<VmCompletion> Gone, List<VmRecord> Check) ReadyVms(PoolObservation o)
    {
        var gone = new List<VmCompletion>();
        var check = new List<VmRecord>();
        foreach (var vm in o.Snapshot.Ready.Where(vm => !o.Busy.Contains(vm.Name)))
        {
            if (!o.Listed.Contains(vm.Name))
            {
                gone.Add(new VmCompletion(vm, VmState.Ready, CompletionReason.Missing));
                continue;
            }

            switch (LifecycleRules.EvaluateReady(vm.View, o.Timings, o.Now))
            {
                case ReadyVerdict.Expired:
                    gone.Add(new VmCompletion(vm, VmState.Ready, CompletionReason.ReadyTtl));
                    break;
                case ReadyVerdict.Check:
                    check.Add(vm);
                    break;
                default:
                    break;
            }
        }

        return (gone, check);
    }

    /// <summary>More ready VMs than the pool's size (a smaller size, or a restart): recycle the newest extras.</summary>
    private static List<VmCompletion> ExcessReady(PoolObservation o, List<VmCompletion> alreadyGone, int ready)
    {
        var excess = LifecycleRules.ExcessReady(o.Pool.Size, ready);
        if (excess == 0)
        {
            return [];
        }

        var gone = alreadyGone.Select(c => c.Vm.Name).ToHashSet(StringComparer.Ordinal);
        return [.. o.Snapshot.Ready
            .Where(vm => !o.Busy.Contains(vm.Name) && !gone.Contains(vm.Name))
            .Reverse()
            .Take(excess)
            .Select(vm => new VmCompletion(vm, VmState.Ready, CompletionReason.Excess))];
    }
}
