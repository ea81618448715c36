using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Core.History;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Redis;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Dashboard;

/// <summary>
/// The whole application (API and manager) on the dummy provider: the manager samples the pools into the history at
/// start-up, and a checkout through the API is counted, on the embedded inventory and on Redis.
/// </summary>
public abstract class DashboardHistoryEndToEndTests(ITestOutputHelper output)
{
    protected ITestOutputHelper Output { get; } = output;

    protected const string Yaml = """
        ---
        :providers:
          :dummy:
            createvm_min_time: 0.01
            createvm_max_time: 0.05
            boot_min_time: 0.01
            boot_max_time: 0.05
        :config:
          check_loop_delay_min: 0.1
          check_loop_delay_max: 0.5
        :pools:
          - name: 'web-a'
            size: 2
          - name: 'web-b'
            size: 1
        """;

    protected abstract string Configuration { get; }

    [Fact]
    public async Task Manager_SamplesAtStart_AndTheApiCountsCheckouts()
    {
        await using var server = await VmPoolerServer.StartAsync(Configuration, VmPoolerRole.All, output: Output);
        var history = server.App.Services.GetRequiredService<IHistoryStore>();
        var now = server.Time.GetUtcNow();

        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await history.GetAsync(["web-a", "web-b"], HistoryResolution.Minute, now.AddMinutes(-2), now.AddMinutes(5), CancellationToken.None)).Count == 2,
            "the manager has sampled both pools");
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.GetAsync("dashboard/data")).Object["totals"]!["ready"]!.GetValue<int>() == 3,
            "both pools are full");
        (await server.PostAsync("api/v3/vm/web-a")).ShouldBeJson(HttpStatusCode.OK);

        var data = (await server.GetAsync("dashboard/data?history=1")).ShouldBeJson(HttpStatusCode.OK).Object;
        data["checkouts"]!["today"]!.GetValue<long>().ShouldBe(1);
        data["history"]!["minutes"]!["checkouts"]!.AsArray().Sum(c => c!.GetValue<long>()).ShouldBe(1);
        var pool = (await server.GetAsync("dashboard/stats/vmpooler/pool?history=1")).ShouldBeJson(HttpStatusCode.OK).Object;
        var series = pool["web-a"]!["history"]!.AsArray();
        series.Count.ShouldBeGreaterThanOrEqualTo(DashboardStatsRepeat, "at least the start-up sample");
        (series.Count % DashboardStatsRepeat).ShouldBe(0);
    }

    private const int DashboardStatsRepeat = VmPooler.Api.Dashboard.DashboardStats.Repeat;
}

public class MemoryDashboardHistoryEndToEndTests(ITestOutputHelper output) : DashboardHistoryEndToEndTests(output)
{
    protected override string Configuration => Yaml;
}

[Collection(RedisCollection.Name)]
public class RedisDashboardHistoryEndToEndTests(RedisFixtures redis, ITestOutputHelper output) : DashboardHistoryEndToEndTests(output)
{
    private readonly string _prefix = RedisFixtures.NewPrefix();

    protected override string Configuration => Yaml + $"""

        :redis:
          server: '{redis.Server.Endpoint}'
          key_prefix: '{_prefix}'
        """;

    [Fact]
    public async Task Redis_TheHistoryIsTheRedisStore()
    {
        await using var server = await VmPoolerServer.StartAsync(Configuration, VmPoolerRole.Api, output: Output);

        server.App.Services.GetRequiredService<IHistoryStore>().ShouldBeOfType<RedisHistoryStore>();
    }
}
