using System.Net;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Metrics;

/// <summary>
/// Metrics and health on a real Redis: a manager-only process and an API-only process on one inventory each serve
/// <c>/prometheus</c> (the API's pool gauges come from its refresher), and <c>/readyz</c> answers 503 while Redis is down.
/// Each test starts its own redis-server, so stopping it touches no other test.
/// </summary>
public sealed class MetricsRedisTests(ITestOutputHelper output)
{
    private static string Yaml(RedisServer redis) => MetricsEndpointTests.Yaml(MetricsEndpointTests.Prometheus + $"""

        :redis:
          server: '127.0.0.1'
          port: {MetricsEndpointTests.Port(redis.Port)}
        """);

    [Fact]
    public async Task Prometheus_ManagerAndApiRolesOnRedis_BothServeGaugesAndTheApiCountsCheckouts()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var manager = await VmPoolerServer.StartAsync(Yaml(redis), VmPoolerRole.Manager, output: output);
        await using var api = await VmPoolerServer.StartAsync(Yaml(redis), VmPoolerRole.Api, output: output);

        // The manager-only role: /prometheus and health, and nothing of the API.
        await MetricsEndpointTests.ScrapeUntilAsync(manager.Client, m => m.Value("vmpooler_ready", ("pool", "metpool")) == 2, "the manager filled the pool");
        (await manager.GetAsync("/healthcheck")).Status.ShouldBe(HttpStatusCode.OK);
        (await manager.GetAsync("/api/v3/vm")).Status.ShouldBe(HttpStatusCode.NotFound);
        await AsyncTestHelpers.WaitUntilAsync(async () => (await manager.GetAsync("/readyz")).Status == HttpStatusCode.OK, "the manager is ready");

        // The API-only role reads the gauges from the inventory.
        await MetricsEndpointTests.ScrapeUntilAsync(api.Client, m => m.Value("vmpooler_ready", ("pool", "metpool")) == 2, "the API's refresher read the counts");
        (await api.PostAsync("/api/v3/vm/metpool")).Status.ShouldBe(HttpStatusCode.OK);

        var afterCheckout = await MetricsEndpointTests.ScrapeUntilAsync(api.Client, m => m.Value("vmpooler_running", ("pool", "metpool")) == 1, "the API's refresher saw the checkout");
        afterCheckout.Value("vmpooler_checkout", ("result", "success"), ("pool", "metpool")).ShouldBe(1);
        await MetricsEndpointTests.ScrapeUntilAsync(manager.Client, m => m.Value("vmpooler_running", ("pool", "metpool")) == 1, "the manager's pass saw the checkout");
    }

    [Fact]
    public async Task Readyz_RedisStopped_503NamingTheInventoryThen200WhenBack()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var api = await VmPoolerServer.StartAsync(Yaml(redis), VmPoolerRole.Api, output: output);
        (await api.GetAsync("/readyz")).Status.ShouldBe(HttpStatusCode.OK);

        await redis.StopAsync();

        ApiResponse? down = null;
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (down = await api.GetAsync("/readyz")).Status == HttpStatusCode.ServiceUnavailable, "/readyz notices Redis is gone");
        down!.Json["ok"]!.GetValue<bool>().ShouldBeFalse();
        down.Json["error"]!.GetValue<string>().ShouldStartWith("not ready: inventory: ");
        down.Json["checks"]!["inventory"]!["status"]!.GetValue<string>().ShouldBe("Unhealthy");
        (await api.GetAsync("/healthz")).Status.ShouldBe(HttpStatusCode.OK);

        await redis.StartAsync();
        await AsyncTestHelpers.WaitUntilAsync(async () => (await api.GetAsync("/readyz")).Status == HttpStatusCode.OK, "/readyz recovers with Redis");
    }
}
