using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;

namespace VmPooler.Tests.Core.Lifecycle;

public class LifecycleRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(24);

    private static readonly PoolTimings Timings = LifecycleRules.TimingsFor(new PoolOptions { Name = "pool" }, new GlobalOptions());

    private static VmView Vm(params (string Field, string Value)[] fields)
        => new VmRecord("vm", "pool", VmState.Pending, fields.ToDictionary(f => f.Field, f => f.Value)).View;

    private static string At(TimeSpan ago) => VmTime.Format(Now - ago);

    // ---- TimingsFor ----

    [Fact]
    public void TimingsFor_NothingConfigured_Defaults()
    {
        var timings = LifecycleRules.TimingsFor(new PoolOptions { Name = "pool" }, new GlobalOptions());

        timings.Timeout.ShouldBe(TimeSpan.FromMinutes(15));
        timings.TimeoutNotification.ShouldBe(TimeSpan.FromMinutes(5));
        timings.ReadyTtl.ShouldBe(TimeSpan.FromMinutes(60));
        timings.CheckInterval.ShouldBe(TimeSpan.FromMinutes(1));
        timings.DefaultLifetime.ShouldBe(TimeSpan.FromHours(24));
        timings.LoopDelayMin.ShouldBe(TimeSpan.FromSeconds(5));
        timings.LoopDelayMax.ShouldBe(TimeSpan.FromSeconds(60));
        timings.LoopDelayDecay.ShouldBe(2.0);
    }

    [Fact]
    public void TimingsFor_GlobalValues_Used()
    {
        var global = new GlobalOptions
        {
            Timeout = TimeSpan.FromMinutes(20),
            TimeoutNotification = TimeSpan.FromMinutes(7),
            ReadyTtl = TimeSpan.FromMinutes(90),
            VmCheckTime = TimeSpan.FromMinutes(3),
            VmLifetime = TimeSpan.FromHours(12),
            CheckLoopDelayMin = TimeSpan.FromSeconds(2),
            CheckLoopDelayMax = TimeSpan.FromSeconds(30),
            CheckLoopDelayDecay = 1.5,
        };

        var timings = LifecycleRules.TimingsFor(new PoolOptions { Name = "pool" }, global);

        timings.Timeout.ShouldBe(TimeSpan.FromMinutes(20));
        timings.TimeoutNotification.ShouldBe(TimeSpan.FromMinutes(7));
        timings.ReadyTtl.ShouldBe(TimeSpan.FromMinutes(90));
        timings.CheckInterval.ShouldBe(TimeSpan.FromMinutes(3));
        timings.DefaultLifetime.ShouldBe(TimeSpan.FromHours(12));
        timings.LoopDelayMin.ShouldBe(TimeSpan.FromSeconds(2));
        timings.LoopDelayMax.ShouldBe(TimeSpan.FromSeconds(30));
        timings.LoopDelayDecay.ShouldBe(1.5);
    }

    [Fact]
    public void TimingsFor_PoolValues_OverrideGlobal()
    {
        var global = new GlobalOptions
        {
            Timeout = TimeSpan.FromMinutes(20),
            TimeoutNotification = TimeSpan.FromMinutes(7),
            ReadyTtl = TimeSpan.FromMinutes(90),
            CheckLoopDelayMin = TimeSpan.FromSeconds(2),
            CheckLoopDelayMax = TimeSpan.FromSeconds(30),
            CheckLoopDelayDecay = 1.5,
        };
        var pool = new PoolOptions
        {
            Name = "pool",
            Timeout = TimeSpan.FromMinutes(3),
            TimeoutNotification = TimeSpan.FromMinutes(1),
            ReadyTtl = TimeSpan.FromMinutes(10),
            CheckLoopDelayMin = TimeSpan.FromSeconds(1),
            CheckLoopDelayMax = TimeSpan.FromSeconds(8),
            CheckLoopDelayDecay = 3,
        };

        var timings = LifecycleRules.TimingsFor(pool, global);

        timings.Timeout.ShouldBe(TimeSpan.FromMinutes(3));
        timings.TimeoutNotification.ShouldBe(TimeSpan.FromMinutes(1));
        timings.ReadyTtl.ShouldBe(TimeSpan.FromMinutes(10));
        timings.LoopDelayMin.ShouldBe(TimeSpan.FromSeconds(1));
        timings.LoopDelayMax.ShouldBe(TimeSpan.FromSeconds(8));
        timings.LoopDelayDecay.ShouldBe(3);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(0)]
    [InlineData(-2)]
    public void TimingsFor_DecayAtMostOne_ReplacedByTwo(double decay)
    {
        var global = new GlobalOptions { CheckLoopDelayDecay = decay };

        LifecycleRules.TimingsFor(new PoolOptions { Name = "pool" }, global).LoopDelayDecay.ShouldBe(2.0);
        LifecycleRules.TimingsFor(new PoolOptions { Name = "pool", CheckLoopDelayDecay = decay }, new GlobalOptions { CheckLoopDelayDecay = 3 })
            .LoopDelayDecay.ShouldBe(2.0);
    }

    [Fact]
    public void TimingsFor_MaxBelowMin_MaxIsMin()
    {
        var global = new GlobalOptions { CheckLoopDelayMin = TimeSpan.FromSeconds(30), CheckLoopDelayMax = TimeSpan.FromSeconds(10) };

        var timings = LifecycleRules.TimingsFor(new PoolOptions { Name = "pool" }, global);

        timings.LoopDelayMin.ShouldBe(TimeSpan.FromSeconds(30));
        timings.LoopDelayMax.ShouldBe(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void TimingsFor_PoolMinAboveGlobalMax_MaxIsPoolMin()
    {
        var global = new GlobalOptions { CheckLoopDelayMax = TimeSpan.FromSeconds(10) };

        var timings = LifecycleRules.TimingsFor(new PoolOptions { Name = "pool", CheckLoopDelayMin = TimeSpan.FromSeconds(20) }, global);

        timings.LoopDelayMax.ShouldBe(TimeSpan.FromSeconds(20));
    }

    // ---- ClonesNeeded / ExcessReady ----

    [Theory]
    [InlineData(5, 0, 0, 5)]
    [InlineData(5, 2, 1, 2)]
    [InlineData(5, 5, 0, 0)]
    [InlineData(5, 3, 4, 0)]
    [InlineData(0, 0, 0, 0)]
    [InlineData(-1, 0, 0, 0)]
    public void ClonesNeeded_SizeReadyPending_SizeMinusReadyAndPendingNeverNegative(int size, int ready, int pending, int expected)
        => LifecycleRules.ClonesNeeded(size, ready, pending).ShouldBe(expected);

    [Theory]
    [InlineData(3, 5, 2)]
    [InlineData(3, 3, 0)]
    [InlineData(3, 1, 0)]
    [InlineData(0, 4, 4)]
    [InlineData(-2, 4, 4)]
    public void ExcessReady_SizeAndReady_ReadyAboveSize(int size, int ready, int expected)
        => LifecycleRules.ExcessReady(size, ready).ShouldBe(expected);

    // ---- EvaluatePending ----

    [Fact]
    public void EvaluatePending_NoCloneTime_TimedOut()
        => LifecycleRules.EvaluatePending(Vm(), Timings, Now).ShouldBe(PendingVerdict.TimedOut);

    [Fact]
    public void EvaluatePending_UnparsableCloneTime_TimedOut()
        => LifecycleRules.EvaluatePending(Vm((VmFields.Clone, "yesterday-ish")), Timings, Now).ShouldBe(PendingVerdict.TimedOut);

    [Theory]
    [InlineData(0)]
    [InlineData(60)]
    [InlineData(300)]
    public void EvaluatePending_YoungerThanNotification_Wait(int secondsAgo)
        => LifecycleRules.EvaluatePending(Vm((VmFields.Clone, At(TimeSpan.FromSeconds(secondsAgo)))), Timings, Now).ShouldBe(PendingVerdict.Wait);

    [Fact]
    public void EvaluatePending_PastNotificationNotYetNotified_Notify()
        => LifecycleRules.EvaluatePending(Vm((VmFields.Clone, At(TimeSpan.FromMinutes(6)))), Timings, Now).ShouldBe(PendingVerdict.Notify);

    [Fact]
    public void EvaluatePending_PastNotificationAlreadyNotified_Wait()
    {
        var vm = Vm((VmFields.Clone, At(TimeSpan.FromMinutes(6))), (VmFields.TimeoutNotification, "1"));

        LifecycleRules.EvaluatePending(vm, Timings, Now).ShouldBe(PendingVerdict.Wait);
    }

    [Fact]
    public void EvaluatePending_ExactlyAtTimeout_NotYetTimedOut()
        => LifecycleRules.EvaluatePending(Vm((VmFields.Clone, At(TimeSpan.FromMinutes(15)))), Timings, Now).ShouldBe(PendingVerdict.Notify);

    [Fact]
    public void EvaluatePending_PastTimeout_TimedOut()
    {
        var vm = Vm((VmFields.Clone, At(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1))), (VmFields.TimeoutNotification, "1"));

        LifecycleRules.EvaluatePending(vm, Timings, Now).ShouldBe(PendingVerdict.TimedOut);
    }

    [Fact]
    public void EvaluatePending_PoolTimeout_Used()
    {
        var timings = LifecycleRules.TimingsFor(new PoolOptions { Name = "pool", Timeout = TimeSpan.FromMinutes(2), TimeoutNotification = TimeSpan.FromMinutes(1) }, new GlobalOptions());

        LifecycleRules.EvaluatePending(Vm((VmFields.Clone, At(TimeSpan.FromSeconds(90)))), timings, Now).ShouldBe(PendingVerdict.Notify);
        LifecycleRules.EvaluatePending(Vm((VmFields.Clone, At(TimeSpan.FromMinutes(3)))), timings, Now).ShouldBe(PendingVerdict.TimedOut);
    }

    // ---- EvaluateReady ----

    [Fact]
    public void EvaluateReady_CheckedWithinCheckTime_Skip()
    {
        var vm = Vm((VmFields.Ready, At(TimeSpan.FromMinutes(10))), (VmFields.Check, At(TimeSpan.FromSeconds(59))));

        LifecycleRules.EvaluateReady(vm, Timings, Now).ShouldBe(ReadyVerdict.Skip);
    }

    [Fact]
    public void EvaluateReady_CheckedWithinCheckTimeButPastTtl_Skip()
    {
        var vm = Vm((VmFields.Ready, At(TimeSpan.FromHours(2))), (VmFields.Check, At(TimeSpan.FromSeconds(10))));

        LifecycleRules.EvaluateReady(vm, Timings, Now).ShouldBe(ReadyVerdict.Skip);
    }

    [Fact]
    public void EvaluateReady_CheckedLongerAgoThanCheckTime_Check()
    {
        var vm = Vm((VmFields.Ready, At(TimeSpan.FromMinutes(10))), (VmFields.Check, At(TimeSpan.FromMinutes(1))));

        LifecycleRules.EvaluateReady(vm, Timings, Now).ShouldBe(ReadyVerdict.Check);
    }

    [Fact]
    public void EvaluateReady_NeverChecked_Check()
        => LifecycleRules.EvaluateReady(Vm((VmFields.Ready, At(TimeSpan.FromMinutes(10)))), Timings, Now).ShouldBe(ReadyVerdict.Check);

    [Fact]
    public void EvaluateReady_PastReadyTtl_Expired()
    {
        var vm = Vm((VmFields.Ready, At(TimeSpan.FromMinutes(61))), (VmFields.Check, At(TimeSpan.FromMinutes(2))));

        LifecycleRules.EvaluateReady(vm, Timings, Now).ShouldBe(ReadyVerdict.Expired);
    }

    [Fact]
    public void EvaluateReady_ExactlyAtReadyTtl_Check()
        => LifecycleRules.EvaluateReady(Vm((VmFields.Ready, At(TimeSpan.FromMinutes(60)))), Timings, Now).ShouldBe(ReadyVerdict.Check);

    [Fact]
    public void EvaluateReady_NoReadyTime_Expired()
        => LifecycleRules.EvaluateReady(Vm(), Timings, Now).ShouldBe(ReadyVerdict.Expired);

    [Fact]
    public void EvaluateReady_PoolReadyTtl_Used()
    {
        var timings = LifecycleRules.TimingsFor(new PoolOptions { Name = "pool", ReadyTtl = TimeSpan.FromMinutes(5) }, new GlobalOptions());

        LifecycleRules.EvaluateReady(Vm((VmFields.Ready, At(TimeSpan.FromMinutes(6)))), timings, Now).ShouldBe(ReadyVerdict.Expired);
    }

    // ---- LifetimeHours / IsRunningExpired ----

    [Theory]
    [InlineData(null, 24)]
    [InlineData("0", 24)]
    [InlineData("-3", 24)]
    [InlineData("abc", 24)]
    [InlineData("5", 5)]
    [InlineData("2x", 2)]
    [InlineData("48", 48)]
    public void LifetimeHours_Field_PositiveFieldElseDefault(string? lifetime, double expected)
    {
        var vm = lifetime is null ? Vm() : Vm((VmFields.Lifetime, lifetime));

        vm.LifetimeHours(24).ShouldBe(expected);
    }

    [Fact]
    public void IsRunningExpired_NoCheckout_Expired()
        => LifecycleRules.IsRunningExpired(Vm(), DefaultLifetime, Now).ShouldBeTrue();

    [Fact]
    public void IsRunningExpired_WithinLifetime_NotExpired()
        => LifecycleRules.IsRunningExpired(Vm((VmFields.Checkout, At(TimeSpan.FromHours(23)))), DefaultLifetime, Now).ShouldBeFalse();

    [Fact]
    public void IsRunningExpired_FractionalHoursShortOfLifetime_NotExpired()
    {
        // Whole hours since checkout: 2h59m counts as 2.
        var vm = Vm((VmFields.Checkout, At(TimeSpan.FromMinutes(179))), (VmFields.Lifetime, "3"));

        LifecycleRules.IsRunningExpired(vm, DefaultLifetime, Now).ShouldBeFalse();
    }

    [Fact]
    public void IsRunningExpired_WholeHoursReachLifetime_Expired()
    {
        var vm = Vm((VmFields.Checkout, At(TimeSpan.FromHours(3))), (VmFields.Lifetime, "3"));

        LifecycleRules.IsRunningExpired(vm, DefaultLifetime, Now).ShouldBeTrue();
    }

    [Fact]
    public void IsRunningExpired_DefaultLifetimeReached_Expired()
        => LifecycleRules.IsRunningExpired(Vm((VmFields.Checkout, At(TimeSpan.FromHours(24)))), DefaultLifetime, Now).ShouldBeTrue();

    [Fact]
    public void IsRunningExpired_LifetimeZero_UsesDefaultNotNever()
    {
        var young = Vm((VmFields.Checkout, At(TimeSpan.FromHours(1))), (VmFields.Lifetime, "0"));
        var old = Vm((VmFields.Checkout, At(TimeSpan.FromHours(25))), (VmFields.Lifetime, "0"));

        LifecycleRules.IsRunningExpired(young, DefaultLifetime, Now).ShouldBeFalse();
        LifecycleRules.IsRunningExpired(old, DefaultLifetime, Now).ShouldBeTrue();
    }

    [Fact]
    public void IsRunningExpired_ExtendedLifetime_NotExpired()
        => LifecycleRules.IsRunningExpired(Vm((VmFields.Checkout, At(TimeSpan.FromHours(30))), (VmFields.Lifetime, "48")), DefaultLifetime, Now).ShouldBeFalse();

    // ---- NextLoopDelay ----

    [Fact]
    public void NextLoopDelay_AfterWork_Min()
        => LifecycleRules.NextLoopDelay(TimeSpan.FromSeconds(40), didWork: true, Timings).ShouldBe(TimeSpan.FromSeconds(5));

    [Fact]
    public void NextLoopDelay_FirstPass_Min()
        => LifecycleRules.NextLoopDelay(TimeSpan.Zero, didWork: false, Timings).ShouldBe(TimeSpan.FromSeconds(5));

    [Fact]
    public void NextLoopDelay_Idle_GrowsByDecayUpToMax()
    {
        var delays = new List<TimeSpan>();
        var delay = TimeSpan.Zero;
        for (var i = 0; i < 7; i++)
        {
            delay = LifecycleRules.NextLoopDelay(delay, didWork: false, Timings);
            delays.Add(delay);
        }

        delays.Select(d => d.TotalSeconds).ShouldBe([5, 10, 20, 40, 60, 60, 60]);
    }

    [Fact]
    public void NextLoopDelay_FractionalDecay_Multiplies()
    {
        var timings = LifecycleRules.TimingsFor(new PoolOptions { Name = "pool" }, new GlobalOptions { CheckLoopDelayDecay = 1.5 });

        LifecycleRules.NextLoopDelay(TimeSpan.FromSeconds(10), didWork: false, timings).ShouldBe(TimeSpan.FromSeconds(15));
    }

    // ---- ParseLeadingInt ----

    [Theory]
    [InlineData("2x", 2)]
    [InlineData("abc", 0)]
    [InlineData("-3", -3)]
    [InlineData("+7", 7)]
    [InlineData("  12", 12)]
    [InlineData("12.9", 12)]
    [InlineData("", 0)]
    [InlineData(null, 0)]
    [InlineData("-", 0)]
    [InlineData("x2", 0)]
    public void ParseLeadingInt_Value_LeadingInteger(string? value, long expected)
        => LifecycleRules.ParseLeadingInt(value).ShouldBe(expected);
}
