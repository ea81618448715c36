using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Operations;

namespace VmPooler.Tests.Core.Operations;

/// <summary>The health evaluation rules of spec §4.10, one row each.</summary>
public class HealthEvaluatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly OperationsOptions Options = new()
    {
        HealthThresholds = new HealthThresholds
        {
            PendingQueueMax = 2, ReadyQueueMax = 3, DlqMaxWarning = 1, DlqMaxCritical = 4,
            StuckVmAge = TimeSpan.FromMinutes(30), StuckVmMaxWarning = 1, StuckVmMaxCritical = 3,
        },
        MaxCompletedAge = TimeSpan.FromHours(1),
    };

    private static VmRecord Vm(string name, string field, TimeSpan ago)
        => new(name, "p", null, new Dictionary<string, string> { [field] = VmTime.Format(Now - ago) });

    private static PoolSnapshot Pool(int pending = 0, int ready = 0, TimeSpan? pendingAge = null, int completedOld = 0)
        => new(
            "p",
            [.. Enumerable.Range(0, pending).Select(i => Vm("pe" + i, VmFields.Clone, pendingAge ?? TimeSpan.FromMinutes(1)))],
            [.. Enumerable.Range(0, ready).Select(i => Vm("re" + i, VmFields.Ready, TimeSpan.FromMinutes(5)))],
            [],
            [.. Enumerable.Range(0, completedOld).Select(i => Vm("co" + i, VmFields.Checkout, TimeSpan.FromHours(2)))]);

    private static HealthReport Evaluate(PoolSnapshot pool, int dlq = 0)
        => HealthEvaluator.Evaluate([pool], new Dictionary<string, int> { ["p"] = dlq }, Options, Now);

    [Fact]
    public void Evaluate_AllWithinLimits_HealthyNoReasons()
    {
        var report = Evaluate(Pool(pending: 2, ready: 3), dlq: 1);

        report.Status.ShouldBe(HealthStatus.Healthy);
        report.Reasons.ShouldBeEmpty();
        report.Pools.Single().ShouldBe(new PoolHealth("p", 2, 3, 60, 300, 0, 1, 0));
    }

    [Theory]
    [InlineData(0, 0, 2, HealthStatus.Degraded, "dead-letter queue: 2 > 1")]
    [InlineData(0, 0, 5, HealthStatus.Unhealthy, "dead-letter queue: 5 > 4 (critical)")]
    [InlineData(3, 0, 0, HealthStatus.Degraded, "pool p pending queue: 3 > 2")]
    [InlineData(5, 0, 0, HealthStatus.Unhealthy, "pool p pending queue: 5 > 4 (critical)")]
    [InlineData(0, 4, 0, HealthStatus.Degraded, "pool p ready queue: 4 > 3")]
    [InlineData(0, 7, 0, HealthStatus.Unhealthy, "pool p ready queue: 7 > 6 (critical)")]
    public void Evaluate_ThresholdCrossed_StatusAndReason(int pending, int ready, int dlq, HealthStatus status, string reason)
    {
        var report = Evaluate(Pool(pending, ready), dlq);

        report.Status.ShouldBe(status);
        report.Reasons.ShouldContain(reason);
    }

    [Fact]
    public void Evaluate_StuckPendingVms_CountedAgainstStuckThresholds()
    {
        var report = Evaluate(Pool(pending: 2, pendingAge: TimeSpan.FromMinutes(31)));

        report.Stuck.ShouldBe(2);
        report.Status.ShouldBe(HealthStatus.Degraded);
        report.Reasons.ShouldBe(["stuck pending VMs: 2 > 1"]);
    }

    [Fact]
    public void Evaluate_CompletedNotDestroyedPastMaxAge_OrphansDegrade()
    {
        var report = Evaluate(Pool(completedOld: 2));

        report.Orphans.ShouldBe(2);
        report.Status.ShouldBe(HealthStatus.Degraded);
    }

    [Fact]
    public void Json_RoundTripOfTheVerdict()
    {
        var report = Evaluate(Pool(), dlq: 9);

        HealthReport.StatusOf(report.ToJson().ToJsonString()).ShouldBe(HealthStatus.Unhealthy);
        HealthReport.StatusOf("not json").ShouldBeNull();
    }
}
