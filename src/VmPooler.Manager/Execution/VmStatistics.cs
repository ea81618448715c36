using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Manager.Execution;

/// <summary>The statistics the manager records as VMs move along (clone and boot durations, spec §3.3).</summary>
internal static class VmStatistics
{
    /// <summary>Records how long a VM took from the start of its clone to passing its ready check; returns the seconds.</summary>
    public static async Task<double> RecordBootAsync(
        IInventory inventory, PoolOptions pool, string name, DateTimeOffset? cloned, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var seconds = Math.Round((now - (cloned ?? now)).TotalSeconds, 2);
        await inventory.RecordDurationAsync(DurationKind.Boot, pool.Name, name, seconds, now, cancellationToken);
        return seconds;
    }
}
