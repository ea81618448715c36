using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Leases;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Redis;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// <c>GET /api/v3/managers</c> over real HTTP: managers register through the lease store (as pool managers do, from
/// their own process on Redis), the API lists them; with Redis gone the route answers the usual 503 JSON.
/// </summary>
[Collection(RedisCollection.Name)]
public class ManagersRoutesTests(RedisFixtures redis, ITestOutputHelper output)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);

    private static Dictionary<string, string> Labels(params (string Key, string Value)[] labels)
        => labels.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);

    private static string RedisYaml(string endpoint, string prefix)
    {
        var (host, port) = (endpoint[..endpoint.LastIndexOf(':')], endpoint[(endpoint.LastIndexOf(':') + 1)..]);
        return TestConfigs.ApiPools + $"\n:redis:\n  server: '{host}'\n  port: {port}\n  key_prefix: '{prefix}'\n";
    }

    [Fact]
    public async Task Managers_NoneRegistered_EmptyList()
    {
        await using var server = await VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api, output: output);

        var response = await server.GetAsync("api/v3/managers");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", "managers"]);
        response.Object["ok"]!.GetValue<bool>().ShouldBeTrue();
        response.Object["managers"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task Managers_RegisteredInMemory_ListedByIdWithPoolsLabelsAndRenewal()
    {
        await using var server = await VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api, output: output);
        var store = server.App.Services.GetRequiredService<IPoolLeaseStore>();
        var before = server.Time.GetUtcNow();
        await store.RegisterAsync(new ManagerRegistration("hv2:/etc/vmpooler.yaml", ["ubuntu"], Labels(), before), Ttl, CancellationToken.None);
        await store.RegisterAsync(new ManagerRegistration("hv1:/etc/vmpooler.yaml", ["debian", "centos"], Labels(("rack", "r1"), ("host", "hv1")), before), Ttl, CancellationToken.None);

        var response = await server.GetAsync("api/v3/managers");

        response.ShouldBeJson(HttpStatusCode.OK);
        var managers = response.Object["managers"]!.AsArray();
        managers.Select(m => m!["id"]!.GetValue<string>()).ShouldBe(["hv1:/etc/vmpooler.yaml", "hv2:/etc/vmpooler.yaml"]);
        var first = managers[0]!.AsObject();
        first.Select(p => p.Key).ShouldBe(["id", "pools", "labels", "renewed"]);
        first["pools"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldBe(["debian", "centos"]);
        first["labels"]!.AsObject().Select(p => $"{p.Key}={p.Value}").ShouldBe(["host=hv1", "rack=r1"]);
        managers[1]!["labels"]!.AsObject().ShouldBeEmpty();
        var renewed = first["renewed"]!.GetValue<string>();
        renewed.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$");
        DateTimeOffset.Parse(renewed, CultureInfo.InvariantCulture).ShouldBeInRange(before.AddSeconds(-1), server.Time.GetUtcNow().AddSeconds(1));
    }

    [Theory]
    [InlineData("api/v2/managers")]
    [InlineData("api/v1/managers")]
    [InlineData("api/v3/managers/")]
    public async Task Managers_OtherGenerations_SameAnswer(string path)
    {
        await using var server = await VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api, output: output);
        await server.App.Services.GetRequiredService<IPoolLeaseStore>()
            .RegisterAsync(new ManagerRegistration("m1", ["debian"], Labels(), server.Time.GetUtcNow()), Ttl, CancellationToken.None);

        var v3 = await server.GetAsync("api/v3/managers");
        var other = await server.GetAsync(path);

        other.ShouldBeJson(HttpStatusCode.OK);
        other.Body.ShouldBe(v3.Body);
    }

    [Fact]
    public async Task Managers_OtherMethods_NotFound()
    {
        await using var server = await VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api, output: output);

        (await server.PostAsync("api/v3/managers", "{}")).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.DeleteAsync("api/v3/managers")).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Managers_RegisteredOnRedisByAnotherProcess_ListedUntilTheyLapseOrLeave()
    {
        var prefix = RedisFixtures.NewPrefix();
        await using var server = await VmPoolerServer.StartAsync(RedisYaml(redis.Server.Endpoint, prefix), VmPoolerRole.Api, output: output);
        await using var connections = new RedisInventories();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 10, 12, 0, 5, TimeSpan.Zero));
        var manager = new RedisPoolLeaseStore(await connections.ConnectAsync(redis.Server.Endpoint, prefix), time, NullLogger<RedisPoolLeaseStore>.Instance);
        await manager.RegisterAsync(new ManagerRegistration("hv1", ["debian", "centos"], Labels(("host", "hv1")), time.GetUtcNow()), Ttl, CancellationToken.None);
        await manager.RegisterAsync(new ManagerRegistration("brief", ["ubuntu"], Labels(), time.GetUtcNow()), TimeSpan.FromMilliseconds(200), CancellationToken.None);
        await manager.RegisterAsync(new ManagerRegistration("leaving", ["spare"], Labels(), time.GetUtcNow()), Ttl, CancellationToken.None);
        await manager.UnregisterAsync("leaving", CancellationToken.None);

        JsonArray managers = [];
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                managers = (await server.GetAsync("api/v3/managers")).ShouldBeJson(HttpStatusCode.OK).Object["managers"]!.AsArray();
                return managers.Count == 1;
            },
            "the 200 ms registration lapses by Redis' clock",
            TimeSpan.FromSeconds(15));

        var only = managers.ShouldHaveSingleItem()!.AsObject();
        only["id"]!.GetValue<string>().ShouldBe("hv1");
        only["pools"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldBe(["debian", "centos"]);
        only["labels"]!.AsObject().Select(p => $"{p.Key}={p.Value}").ShouldBe(["host=hv1"]);
        only["renewed"]!.GetValue<string>().ShouldBe("2026-03-10T12:00:05+00:00", "the manager's clock at its renewal");
    }

    [Fact]
    public async Task Managers_RedisDown_Answers503Json()
    {
        // Its own server: stopping the shared one would hit the other tests.
        await using var own = await RedisServer.StartNewAsync();
        await using var server = await VmPoolerServer.StartAsync(RedisYaml(own.Endpoint, RedisFixtures.NewPrefix()), VmPoolerRole.Api, output: output);
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.GetAsync("api/v3/managers")).Status == HttpStatusCode.OK,
            "the API is connected to Redis",
            TimeSpan.FromSeconds(15));

        await own.StopAsync();

        var message = (await server.GetAsync("api/v3/managers")).ShouldBeError(HttpStatusCode.ServiceUnavailable);
        message.ShouldContain("Redis");
    }
}
