namespace VmPooler.Core.Operations;

/// <summary>The health evaluation's verdict; the numbers are the <c>vmpooler_health.status</c> gauge (spec §4.10).</summary>
public enum HealthStatus
{
    Healthy = 0,
    Degraded = 1,
    Unhealthy = 2,
}
