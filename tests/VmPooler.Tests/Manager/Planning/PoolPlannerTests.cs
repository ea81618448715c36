using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Core.Providers;
using VmPooler.Manager.Planning;

namespace VmPooler.Tests.Manager.Planning;

/// <summary>
/// Every lifecycle rule of the planner as a row: a pool observed at <see cref="Now"/>, and the plan. No clock, no I/O,
/// no provider: the planner is a pure function.
/// </summary>
public class PoolPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly PoolTimings Timings = LifecycleRules.TimingsFor(new PoolOptions { Name = "p" }, new GlobalOptions());

    private static VmRecord Vm(string name, VmState state, params (string Field, string Value)[] fields)
        => new(name, "p", state, fields.ToDictionary(f => f.Field, f => f.Value));

    private static string Ago(TimeSpan age) => VmTime.Format(Now - age);

    private static PoolPlan Plan(
        int size,
        IEnumerable<VmRecord> vms,
        IEnumerable<string>? listed = null,
        IEnumerable<string>? busy = null)
    {
        var all = vms.ToList();
        var snapshot = new PoolSnapshot(
            "p",
            [.. all.Where(v => v.State == VmState.Pending)],
            [.. all.Where(v => v.State == VmState.Ready)],
            [.. all.Where(v => v.State == VmState.Running)],
            [.. all.Where(v => v.State == VmState.Completed)]);
        var inProvider = (listed ?? all.Select(v => v.Name)).ToHashSet(StringComparer.Ordinal);
        return PoolPlanner.Plan(new PoolObservation(
            new PoolOptions { Name = "p", Size = size },
            Timings,
            snapshot,
            inProvider,
            (busy ?? []).ToHashSet(StringComparer.Ordinal),
            Now));
    }

    private static VmRecord FreshReady(string name) => Vm(name, VmState.Ready, (VmFields.Ready, Ago(TimeSpan.FromMinutes(1))), (VmFields.Check, Ago(TimeSpan.FromSeconds(10))));

    [Fact]
    public void Plan_EmptyPool_ClonesSize()
    {
        var plan = Plan(3, []);

        plan.Clones.ShouldBe(3);
        plan.HasWork.ShouldBeTrue();
    }

    [Fact]
    public void Plan_FullPoolRecentlyChecked_NothingToDo()
    {
        var plan = Plan(2, [FreshReady("a"), FreshReady("b")]);

        plan.HasWork.ShouldBeFalse();
        plan.CheckReady.ShouldBeEmpty();
        plan.Clones.ShouldBe(0);
    }

    [Fact]
    public void Plan_SizeZero_NeverClones() => Plan(0, []).Clones.ShouldBe(0);

    [Fact]
    public void Plan_PendingCountsTowardsSize()
    {
        var plan = Plan(3, [Vm("a", VmState.Pending, (VmFields.Clone, Ago(TimeSpan.FromSeconds(5))))]);

        plan.CheckPending.Select(v => v.Name).ShouldBe(["a"]);
        plan.Clones.ShouldBe(2);
    }

    [Fact]
    public void Plan_OnDemandPending_NotCountedTowardsSize()
    {
        var plan = Plan(1, [Vm("od", VmState.Pending, (VmFields.Clone, Ago(TimeSpan.FromSeconds(5))), (VmFields.RequestId, "r1"))]);

        plan.Pending.ShouldBe(0);
        plan.Clones.ShouldBe(1);
    }

    [Fact]
    public void Plan_PendingBusyHere_NeitherCheckedNorForgotten()
    {
        var plan = Plan(1, [Vm("a", VmState.Pending)], listed: [], busy: ["a"]);

        plan.CheckPending.ShouldBeEmpty();
        plan.ForgetPending.ShouldBeEmpty();
        plan.Clones.ShouldBe(0);
    }

    [Fact]
    public void Plan_PendingGoneFromProvider_ForgottenAndReplaced()
    {
        var plan = Plan(1, [Vm("a", VmState.Pending, (VmFields.Clone, Ago(TimeSpan.FromSeconds(5))))], listed: []);

        plan.ForgetPending.Select(v => v.Name).ShouldBe(["a"]);
        plan.Clones.ShouldBe(1);
    }

    [Fact]
    public void Plan_RunningPastLifetime_CompletedConditionallyAndDestroyed()
    {
        var vm = Vm("a", VmState.Running, (VmFields.Checkout, Ago(TimeSpan.FromHours(13))), (VmFields.Lifetime, "12"));

        var completion = Plan(0, [vm]).Complete.ShouldHaveSingleItem();

        completion.Reason.ShouldBe(CompletionReason.LifetimeOver);
        completion.Destroy.ShouldBeTrue();
        completion.Expect.ShouldNotBeNull()[VmFields.Lifetime].ShouldBe("12");
    }

    [Fact]
    public void Plan_RunningWithinLifetime_Kept()
        => Plan(0, [Vm("a", VmState.Running, (VmFields.Checkout, Ago(TimeSpan.FromHours(11))), (VmFields.Lifetime, "12"))]).Complete.ShouldBeEmpty();

    [Fact]
    public void Plan_RunningGoneFromProvider_CompletedNotDestroyed()
    {
        var completion = Plan(0, [Vm("a", VmState.Running, (VmFields.Checkout, Ago(TimeSpan.FromMinutes(1))))], listed: []).Complete.ShouldHaveSingleItem();

        completion.Reason.ShouldBe(CompletionReason.Missing);
        completion.Destroy.ShouldBeFalse();
    }

    [Fact]
    public void Plan_ReadyPastTtl_RecycledAndReplaced()
    {
        var plan = Plan(1, [Vm("a", VmState.Ready, (VmFields.Ready, Ago(Timings.ReadyTtl + TimeSpan.FromMinutes(1))))]);

        plan.Complete.ShouldHaveSingleItem().Reason.ShouldBe(CompletionReason.ReadyTtl);
        plan.Clones.ShouldBe(1);
    }

    [Fact]
    public void Plan_ReadyDueForCheck_Checked()
    {
        var plan = Plan(1, [Vm("a", VmState.Ready, (VmFields.Ready, Ago(TimeSpan.FromMinutes(5))), (VmFields.Check, Ago(Timings.CheckInterval + TimeSpan.FromSeconds(1))))]);

        plan.CheckReady.Select(v => v.Name).ShouldBe(["a"]);
        plan.Clones.ShouldBe(0);
    }

    [Fact]
    public void Plan_ReadyGoneFromProvider_CompletedAndReplaced()
    {
        var plan = Plan(1, [FreshReady("a")], listed: []);

        plan.Complete.ShouldHaveSingleItem().Reason.ShouldBe(CompletionReason.Missing);
        plan.Clones.ShouldBe(1);
    }

    [Fact]
    public void Plan_MoreReadyThanSize_NewestRecycled()
    {
        var plan = Plan(1, [FreshReady("oldest"), FreshReady("middle"), FreshReady("newest")]);

        plan.Complete.Select(c => (c.Vm.Name, c.Reason)).ShouldBe([("newest", CompletionReason.Excess), ("middle", CompletionReason.Excess)]);
        plan.Ready.ShouldBe(1);
        plan.Clones.ShouldBe(0);
    }

    [Fact]
    public void Plan_CompletedVms_DestroyedOrForgotten()
    {
        var plan = Plan(0, [Vm("here", VmState.Completed), Vm("gone", VmState.Completed)], listed: ["here"]);

        plan.Destroy.ShouldBe(["here"]);
        plan.ForgetCompleted.ShouldBe(["gone"]);
    }

    [Fact]
    public void Plan_UnknownVmInProvider_AdoptedUnlessBeingClonedHere()
    {
        var plan = Plan(0, [], listed: ["stray", "cloning"], busy: ["cloning"]);

        plan.Adopt.ShouldBe(["stray"]);
    }

    public static TheoryData<string, bool, bool, string?, string?, string?, string> PendingRows => new()
    {
        // row name, ready, abandoned, clone age (minutes), notified, request id → decision
        { "passed", true, false, "1", null, null, nameof(PendingDecision.MarkReady) },
        { "passed on-demand", true, false, "1", null, "r1", nameof(PendingDecision.Deliver) },
        { "abandoned clone", false, true, "1", null, null, nameof(PendingDecision.Abandon) },
        { "young", false, false, "1", null, null, nameof(PendingDecision.Wait) },
        { "slow", false, false, "6", null, null, nameof(PendingDecision.Notify) },
        { "slow, already notified", false, false, "6", "1", null, nameof(PendingDecision.Wait) },
        { "past timeout", false, false, "16", null, null, nameof(PendingDecision.TimeOut) },
        { "no clone time", false, false, null, null, null, nameof(PendingDecision.TimeOut) },
    };

    [Theory]
    [MemberData(nameof(PendingRows))]
    public void DecidePending_Row_Decision(string row, bool ready, bool abandoned, string? ageMinutes, string? notified, string? requestId, string expected)
    {
        var fields = new List<(string, string)>();
        if (ageMinutes is not null)
        {
            fields.Add((VmFields.Clone, Ago(TimeSpan.FromMinutes(double.Parse(ageMinutes, System.Globalization.CultureInfo.InvariantCulture)))));
        }

        if (notified is not null)
        {
            fields.Add((VmFields.TimeoutNotification, notified));
        }

        if (requestId is not null)
        {
            fields.Add((VmFields.RequestId, requestId));
        }

        var check = ready ? ReadyCheckResult.Ready : abandoned ? ReadyCheckResult.CloneAbandoned("gone") : ReadyCheckResult.NotReady("booting");
        var timings = Timings with { Timeout = TimeSpan.FromMinutes(15), TimeoutNotification = TimeSpan.FromMinutes(5) };

        PoolPlanner.DecidePending(Vm("a", VmState.Pending, [.. fields]), check, timings, Now).ShouldBe(Enum.Parse<PendingDecision>(expected), row);
    }

    [Fact]
    public void ClonesNeeded_FromCounts_IgnoresOnDemandPending()
        => PoolPlanner.ClonesNeeded(5, new PoolCounts(Pending: 3, Ready: 1, Running: 9, Completed: 4, Cloning: 0, OnDemand: 2)).ShouldBe(3);
}
