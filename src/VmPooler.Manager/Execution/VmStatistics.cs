using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Manager.Execution;

/// <summary>The statistics the manager records as VMs move along (clone and boot durations, spec §3.3).</summary>
internal static class VmStatistics
{
    /// <summary>
    /// Records how long a VM took from the start of its clone to passing its ready check (and, when given, how long
    /// its clone took, in the same call); returns the boot seconds.
    /// </summary>
    public static async Task<double> RecordBootAsync(
        IInventory inventory, PoolOptions pool, string name, DateTimeOffset? cloned, DateTimeOffset now, double? cloneSeconds, CancellationToken cancellationToken)
    {
        var seconds = Math.Round((now - (cloned ?? now)).TotalSeconds, 2);
        await (cloneSeconds is { } clone
            ? inventory.RecordCloneAndBootAsync(pool.Name, name, clone, seconds, now, cancellationToken)
            : inventory.RecordDurationAsync(DurationKind.Boot, pool.Name, name, seconds, now, cancellationToken));
        return seconds;
    }
}
