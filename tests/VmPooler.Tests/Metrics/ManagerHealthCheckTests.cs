using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Metrics;
using VmPooler.Telemetry.Health;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Metrics;

public class ManagerHealthCheckTests
{
    private static readonly VmPoolerOptions Options = new()
    {
        Pools = [new PoolOptions { Name = "debian", Size = 1 }],
        Config = new GlobalOptions { CheckLoopDelayMax = TimeSpan.FromSeconds(60) },
    };

    private static async Task<HealthCheckResult> CheckAsync(ManagerHeartbeat heartbeat, TimeProvider time, VmPoolerOptions? options = null)
        => await new ManagerHealthCheck(heartbeat, options ?? Options, time).CheckHealthAsync(new HealthCheckContext()).DefaultTimeout();

    [Fact]
    public async Task Check_LoopNotRunning_Unhealthy()
    {
        var result = await CheckAsync(new ManagerHeartbeat(), new FakeTimeProvider());

        result.Status.ShouldBe(HealthStatus.Unhealthy);
        result.Description.ShouldBe("the pool manager loop is not running");
    }

    [Fact]
    public async Task Check_RunningWithoutAPass_Unhealthy()
    {
        var heartbeat = new ManagerHeartbeat();
        heartbeat.MarkRunning(true);

        (await CheckAsync(heartbeat, new FakeTimeProvider())).Status.ShouldBe(HealthStatus.Unhealthy);
    }

    [Fact]
    public async Task Check_RecentPass_HealthyUntilTheWindowPasses()
    {
        var time = new FakeTimeProvider();
        var heartbeat = new ManagerHeartbeat();
        heartbeat.MarkRunning(true);
        heartbeat.MarkPass(time.GetUtcNow());

        (await CheckAsync(heartbeat, time)).Status.ShouldBe(HealthStatus.Healthy);

        time.Advance(TimeSpan.FromSeconds(180));
        (await CheckAsync(heartbeat, time)).Status.ShouldBe(HealthStatus.Healthy);

        time.Advance(TimeSpan.FromSeconds(1));
        var stale = await CheckAsync(heartbeat, time);
        stale.Status.ShouldBe(HealthStatus.Unhealthy);
        stale.Description.ShouldNotBeNull().ShouldContain("181 s ago");
    }

    [Fact]
    public async Task Check_StandingBy_HealthyWithoutPasses()
    {
        var heartbeat = new ManagerHeartbeat();
        heartbeat.MarkRunning(true);
        heartbeat.MarkStandingBy(true);

        (await CheckAsync(heartbeat, new FakeTimeProvider())).Status.ShouldBe(HealthStatus.Healthy);
    }
}
