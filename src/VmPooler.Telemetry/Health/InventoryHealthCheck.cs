using Microsoft.Extensions.Diagnostics.HealthChecks;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Telemetry.Health;

/// <summary>
/// <c>/readyz</c>: the inventory answers a real read (the counts of one pool: a Redis round trip) within
/// <see cref="Timeout"/>.
/// </summary>
internal sealed class InventoryHealthCheck(IInventory inventory, VmPoolerOptions options, TimeProvider timeProvider) : IHealthCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var pool = options.Pools.Count > 0 ? options.Pools[0].Name : "vmpooler-readyz";
        try
        {
            await inventory.GetCountsAsync([pool], cancellationToken).WaitAsync(Timeout, timeProvider, cancellationToken);
            return HealthCheckResult.Healthy("the inventory answers");
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"the inventory did not answer within {Timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("the inventory is unreachable: " + ex.Message);
        }
    }
}
