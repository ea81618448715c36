using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using VmPooler.Core.Configuration;
using VmPooler.Core.Metrics;

namespace VmPooler.Telemetry.Health;

/// <summary>
/// <c>/readyz</c> in roles that run the pool manager: its loop runs and finished a pass within <see cref="Window"/>
/// (or it stands by while another manager holds the lease).
/// </summary>
internal sealed class ManagerHealthCheck(ManagerHeartbeat heartbeat, VmPoolerOptions options, TimeProvider timeProvider) : IHealthCheck
{
    /// <summary>Three of the slowest pool's idle delays (<c>check_loop_delay_max</c>), and at least two minutes.</summary>
    public TimeSpan Window { get; } = TimeSpan.FromSeconds(Math.Max(
        120,
        3 * options.Pools.Select(p => p.CheckLoopDelayMax ?? options.Config.CheckLoopDelayMax)
            .DefaultIfEmpty(options.Config.CheckLoopDelayMax).Max().TotalSeconds));

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!heartbeat.Running)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the pool manager loop is not running"));
        }

        if (options.Pools.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy("no pools to manage"));
        }

        if (heartbeat.StandingBy)
        {
            return Task.FromResult(HealthCheckResult.Healthy("standing by: this manager owns no pool now (other managers own them, or its labels select none)"));
        }

        if (heartbeat.LastPass is not { } last)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the pool manager has not finished a pass yet"));
        }

        var age = timeProvider.GetUtcNow() - last;
        return Task.FromResult(age <= Window
            ? HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"last pass {age.TotalSeconds:0} s ago"))
            : HealthCheckResult.Unhealthy(string.Create(CultureInfo.InvariantCulture, $"the pool manager's last pass was {age.TotalSeconds:0} s ago (more than {Window.TotalSeconds:0} s)")));
    }
}
