using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpsHealthReport = VmPooler.Core.Operations.HealthReport;
using OpsHealthStatus = VmPooler.Core.Operations.HealthStatus;
using VmPooler.Core.Operations;

namespace VmPooler.Telemetry.Health;

/// <summary>
/// <c>/readyz</c> with <c>health_check_readyz: true</c>: not ready while the stored health evaluation says unhealthy
/// (degraded and unknown stay ready).
/// </summary>
internal sealed class OperationsHealthCheck(IOperationsStateStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var json = await store.GetAsync(OpsHealthReport.DocumentName, cancellationToken);
        return json is not null && OpsHealthReport.StatusOf(json) == OpsHealthStatus.Unhealthy
            ? HealthCheckResult.Unhealthy("the health evaluation says unhealthy (GET /api/v3/health)")
            : HealthCheckResult.Healthy(json is null ? "no health evaluation stored" : "health evaluation not unhealthy");
    }
}
