using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Lifecycle;

/// <summary>
/// The whole application (API and pool manager) on the dummy provider with tiny delays, driven only over HTTP: pools
/// fill, a checkout is replaced, a returned VM is destroyed. Every wait polls with a deadline; nothing sleeps.
/// </summary>
public class PoolLifecycleTests(ITestOutputHelper output)
{
    private const string Yaml = """
        ---
        :providers:
          :dummy:
            createvm_min_time: 0.01
            createvm_max_time: 0.05
            boot_min_time: 0.01
            boot_max_time: 0.05
        :dns_configs:
          :example:
            dns_class: dynamic-dns
            domain: 'example.com'
        :config:
          check_loop_delay_min: 0.1
          check_loop_delay_max: 0.5
          check_loop_delay_decay: 2.0
        :pools:
          - name: 'refill'
            alias: 'rf'
            size: 3
            dns_plugin: example
          - name: 'other'
            size: 2
        """;

    private static readonly TimeSpan FillTimeout = TimeSpan.FromSeconds(20);

    private Task<VmPoolerServer> StartAsync() => VmPoolerServer.StartAsync(Yaml, VmPoolerRole.All, output: output);

    private static async Task<JsonObject> PoolStatusAsync(VmPoolerServer server, string pool)
    {
        var response = await server.GetAsync("api/v3/status?view=pools");
        response.ShouldBeJson(HttpStatusCode.OK);
        return response.Object["pools"]![pool]!.AsObject();
    }

    private static async Task<bool> PoolIsAsync(VmPoolerServer server, string pool, int ready, int running)
    {
        var status = await PoolStatusAsync(server, pool);
        return status["ready"]!.GetValue<int>() == ready && status["running"]!.GetValue<int>() == running;
    }

    private static Task WaitUntilFullAsync(VmPoolerServer server, string pool, int size, int running = 0)
        => AsyncTestHelpers.WaitUntilAsync(
            () => PoolIsAsync(server, pool, size, running),
            $"pool {pool} has {size} ready and {running} running VMs",
            FillTimeout);

    [Fact]
    public async Task Start_DummyPools_FillToTheirSizeAndReportFullyArmed()
    {
        await using var server = await StartAsync();

        await WaitUntilFullAsync(server, "refill", 3);
        await WaitUntilFullAsync(server, "other", 2);

        var status = (await server.GetAsync("api/v3/status")).ShouldBeJson(HttpStatusCode.OK).Object;
        status["status"]!["ok"]!.GetValue<bool>().ShouldBeTrue();
        status["capacity"]!["percent"]!.GetValue<double>().ShouldBe(100.0);
        status["clone"]!["count"]!["total"]!.GetValue<int>().ShouldBeGreaterThanOrEqualTo(5);
        status["boot"]!["count"]!["total"]!.GetValue<int>().ShouldBeGreaterThanOrEqualTo(5);
        status["pools"]!["refill"]!["lastBoot"]!.GetValue<string>().ShouldMatch(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$");
    }

    [Fact]
    public async Task PostVm_AfterCheckout_ManagerRefillsThePool()
    {
        await using var server = await StartAsync();
        await WaitUntilFullAsync(server, "refill", 3);

        var checkout = await server.PostAsync("api/v3/vm", """{"rf": 2}""");

        checkout.ShouldBeJson(HttpStatusCode.OK);
        var hostnames = checkout.Object["rf"]!["hostname"]!.AsArray().Select(h => h!.GetValue<string>()).ToList();
        hostnames.Count.ShouldBe(2);
        hostnames.ShouldAllBe(h => h.EndsWith(".example.com", StringComparison.Ordinal));
        await WaitUntilFullAsync(server, "refill", 3, running: 2);
        (await server.GetAsync("api/v3/totalrunning")).Object["running"]!.GetValue<int>().ShouldBe(2);
        foreach (var hostname in hostnames)
        {
            var details = (await server.GetAsync("api/v3/vm/" + hostname)).ShouldBeJson(HttpStatusCode.OK).Object;
            details[hostname.Split('.')[0]]!["state"]!.GetValue<string>().ShouldBe("running");
        }
    }

    [Fact]
    public async Task GetVm_ManagedReadyVm_ReportsReadyWithTheProvidersIp()
    {
        await using var server = await StartAsync();
        await WaitUntilFullAsync(server, "other", 2);
        var vm = (await server.Inventory.GetPoolAsync("other", CancellationToken.None).DefaultTimeout()).Ready[0].Name;

        var details = (await server.GetAsync("api/v3/vm/" + vm)).ShouldBeJson(HttpStatusCode.OK).Object[vm]!;

        details["state"]!.GetValue<string>().ShouldBe("ready");
        details["template"]!.GetValue<string>().ShouldBe("other");
        details["ip"]!.GetValue<string>().ShouldBe("127.0.0.1");
    }

    [Fact]
    public async Task DeleteVm_RunningVm_IsDestroyedAndThePoolStaysFull()
    {
        await using var server = await StartAsync();
        await WaitUntilFullAsync(server, "refill", 3);
        var hostname = (await server.PostAsync("api/v3/vm/refill")).ShouldBeJson(HttpStatusCode.OK).Object["refill"]!["hostname"]!.GetValue<string>();
        var vm = hostname.Split('.')[0];

        (await server.DeleteAsync("api/v3/vm/" + hostname)).ShouldBeOkTrue();

        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.GetAsync("api/v3/vm/" + vm)).Object[vm]?["state"]?.GetValue<string>() == "destroyed",
            $"{vm} is reported destroyed",
            FillTimeout);
        await WaitUntilFullAsync(server, "refill", 3, running: 0);
        (await server.DeleteAsync("api/v3/vm/" + vm)).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PostVm_PoolEmptiedFasterThanItRefills_Returns503ThenSucceedsOnceRefilled()
    {
        await using var server = await StartAsync();
        await WaitUntilFullAsync(server, "other", 2);

        (await server.PostAsync("api/v3/vm", """{"other": 2}""")).ShouldBeJson(HttpStatusCode.OK);
        var third = await server.PostAsync("api/v3/vm", """{"other": 3}""");

        third.ShouldBeOkFalse(HttpStatusCode.ServiceUnavailable);
        await WaitUntilFullAsync(server, "other", 2, running: 2);
        (await server.PostAsync("api/v3/vm/other")).ShouldBeJson(HttpStatusCode.OK);
    }
}
