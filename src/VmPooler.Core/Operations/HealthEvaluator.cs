using System.Globalization;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Core.Operations;

/// <summary>
/// The health evaluation of spec §4.10 as a pure function of the pools, the dead-letter counts, the thresholds and
/// now: unhealthy when the DLQ or the stuck VMs pass their critical level or a queue holds more than twice its max;
/// degraded above the warning levels or a queue's max; healthy otherwise. Stuck = pending longer than
/// <c>stuck_vm_age_threshold</c>; orphans = completed VMs still not destroyed after <c>max_completed_age</c>.
/// </summary>
public static class HealthEvaluator
{
    public static HealthReport Evaluate(
        IReadOnlyList<PoolSnapshot> pools,
        IReadOnlyDictionary<string, int> deadLetters,
        OperationsOptions options,
        DateTimeOffset now)
    {
        var t = options.HealthThresholds;
        var measured = pools.Select(p => Measure(p, deadLetters.GetValueOrDefault(p.Pool), options, now)).ToList();
        var critical = new List<string>();
        var warnings = new List<string>();
        var dlq = measured.Sum(p => p.DeadLetters);
        var stuck = measured.Sum(p => p.Stuck);
        Check(dlq, t.DlqMaxWarning, t.DlqMaxCritical, "dead-letter queue", warnings, critical);
        Check(stuck, t.StuckVmMaxWarning, t.StuckVmMaxCritical, "stuck pending VMs", warnings, critical);
        foreach (var p in measured)
        {
            Check(p.Pending, t.PendingQueueMax, 2 * t.PendingQueueMax, $"pool {p.Pool} pending queue", warnings, critical);
            Check(p.Ready, t.ReadyQueueMax, 2 * t.ReadyQueueMax, $"pool {p.Pool} ready queue", warnings, critical);
            if (p.Orphans > 0)
            {
                warnings.Add(Text($"pool {p.Pool}: {p.Orphans} completed VMs not destroyed within {options.MaxCompletedAge.TotalSeconds} s"));
            }
        }

        var status = critical.Count > 0 ? HealthStatus.Unhealthy : warnings.Count > 0 ? HealthStatus.Degraded : HealthStatus.Healthy;
        return new HealthReport(status, [.. critical, .. warnings], now, measured);
    }

    private static PoolHealth Measure(PoolSnapshot pool, int deadLetters, OperationsOptions options, DateTimeOffset now)
    {
        double Age(DateTimeOffset? time) => time is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0;
        var pendingAges = pool.Pending.Select(v => Age(v.View.Cloned)).ToList();
        var readyAges = pool.Ready.Select(v => Age(v.View.Ready)).ToList();
        var orphans = pool.Completed.Count(v => (v.View.Destroyed ?? v.View.CheckedOut ?? v.View.Cloned) is { } since
            && now - since > options.MaxCompletedAge);
        return new PoolHealth(
            pool.Pool,
            pool.Pending.Count,
            pool.Ready.Count,
            pendingAges.DefaultIfEmpty(0).Max(),
            readyAges.DefaultIfEmpty(0).Max(),
            pendingAges.Count(a => a > options.HealthThresholds.StuckVmAge.TotalSeconds),
            deadLetters,
            orphans);
    }

    private static void Check(int value, int warning, int critical, string what, List<string> warnings, List<string> criticals)
    {
        if (value > critical)
        {
            criticals.Add(Text($"{what}: {value} > {critical} (critical)"));
        }
        else if (value > warning)
        {
            warnings.Add(Text($"{what}: {value} > {warning}"));
        }
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
