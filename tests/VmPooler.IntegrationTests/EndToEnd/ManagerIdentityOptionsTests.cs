using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Core.Leases;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Redis;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.EndToEnd;

/// <summary>
/// <c>--manager-id</c> and <c>--pools-label</c>: bad values are option errors of the real executable (exit code 2, the
/// problem named on stderr, nothing started), and the composition root registers the <see cref="ManagerIdentity"/> and
/// the <see cref="IPoolLeaseStore"/> that matches the inventory.
/// </summary>
[Collection(RedisCollection.Name)]
public class ManagerIdentityOptionsTests(RedisFixtures redis, ITestOutputHelper output)
{
    [Theory]
    [InlineData("--pools-label", "host", "--pools-label 'host' must be key=value with a non-empty key and value")]
    [InlineData("--pools-label", "=hv1", "--pools-label '=hv1' must be key=value with a non-empty key and value")]
    [InlineData("--pools-label", "host=", "--pools-label 'host=' must be key=value with a non-empty key and value")]
    [InlineData("--manager-id", "", "--manager-id must not be empty")]
    [InlineData("--manager-id", "   ", "--manager-id must not be empty")]
    public async Task Vmpooler_BadIdentityOption_ExitsWithTwoNamingTheProblem(string option, string value, string expected)
    {
        await using var vmpooler = VmPoolerProcess.Start([option, value], listen: false);
        try
        {
            (await vmpooler.WaitForExitAsync(TimeSpan.FromSeconds(30))).ShouldBe(2);
            vmpooler.StandardError.ShouldContain(expected);
            vmpooler.StandardOutput.ShouldNotContain("listening on", Case.Insensitive);
        }
        finally
        {
            output.WriteLine(vmpooler.Describe());
        }
    }

    [Fact]
    public async Task Vmpooler_ContradictingLabels_ExitsWithTwo()
    {
        await using var vmpooler = VmPoolerProcess.Start(["--pools-label", "host=hv1", "--pools-label", "host=hv2"], listen: false);

        (await vmpooler.WaitForExitAsync(TimeSpan.FromSeconds(30))).ShouldBe(2);
        vmpooler.StandardError.ShouldContain("--pools-label 'host=hv2' contradicts 'host=hv1'");
    }

    [Fact]
    public async Task Vmpooler_OtherOptionError_AlsoExitsWithTwo()
    {
        await using var vmpooler = VmPoolerProcess.Start(["--role", "bogus"], listen: false);

        (await vmpooler.WaitForExitAsync(TimeSpan.FromSeconds(30))).ShouldBe(2);
    }

    [Fact]
    public async Task Vmpooler_Help_ListsTheIdentityOptions()
    {
        await using var vmpooler = VmPoolerProcess.Start(["--help"], listen: false);

        (await vmpooler.WaitForExitAsync(TimeSpan.FromSeconds(30))).ShouldBe(0);
        vmpooler.StandardOutput.ShouldContain("--manager-id <id>");
        vmpooler.StandardOutput.ShouldContain("--pools-label <key=value>");
    }

    [Fact]
    public async Task Vmpooler_GoodIdentityOptions_StartsAndServes()
    {
        await using var vmpooler = VmPoolerProcess.Start(["--manager-id", "hv1:/etc/vmpooler.yaml", "--pools-label", "host=hv1", "--pools-label", "rack=a=b"]);
        try
        {
            await Tests.Shared.AsyncTestHelpers.WaitUntilAsync(
                async () =>
                {
                    try
                    {
                        return (await vmpooler.Client.GetAsync("api/v3/managers")).StatusCode == HttpStatusCode.OK;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                "vmpooler answers GET /api/v3/managers",
                TimeSpan.FromSeconds(60));

            // Its label selects none of the (unlabelled) demo pools, so it owns none and makes no passes: ready all the same.
            var ready = await vmpooler.Client.GetAsync("readyz");
            var body = await ready.Content.ReadAsStringAsync();
            ready.StatusCode.ShouldBe(HttpStatusCode.OK, body);
            body.ShouldContain("owns no pool");
        }
        finally
        {
            output.WriteLine(vmpooler.Describe());
        }
    }

    [Fact]
    public async Task Build_NoIdentity_DefaultIdFromHostAndConfigSourceAndMemoryStore()
    {
        var options = VmPoolerServer.LoadOptions(TestConfigs.ApiPools);
        await using var app = VmPoolerApplication.Build(options, VmPoolerRole.All, ["http://127.0.0.1:0"]);

        var identity = app.Services.GetRequiredService<ManagerIdentity>();
        identity.Id.ShouldBe($"{Dns.GetHostName()}:test.yaml");
        identity.PoolSelector.ShouldBeEmpty();
        app.Services.GetRequiredService<IPoolLeaseStore>().ShouldBeOfType<MemoryPoolLeaseStore>();
    }

    [Fact]
    public async Task Build_IdentityAndRedis_RegistersBothAsSingletons()
    {
        var endpoint = redis.Server.Endpoint;
        var options = VmPoolerServer.LoadOptions(TestConfigs.ApiPools + $"\n:redis:\n  server: '127.0.0.1'\n  port: {endpoint[(endpoint.LastIndexOf(':') + 1)..]}\n");
        var given = ManagerIdentityArguments.Create("hv1", ["host=hv1"], "ignored", "ignored");
        await using var app = VmPoolerApplication.Build(options, VmPoolerRole.Manager, ["http://127.0.0.1:0"], managerIdentity: given);

        app.Services.GetRequiredService<ManagerIdentity>().ShouldBeSameAs(given);
        var store = app.Services.GetRequiredService<IPoolLeaseStore>();
        store.ShouldBeOfType<RedisPoolLeaseStore>();
        app.Services.GetRequiredService<IPoolLeaseStore>().ShouldBeSameAs(store);
    }
}
