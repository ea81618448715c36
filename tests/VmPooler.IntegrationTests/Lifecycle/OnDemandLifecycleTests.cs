using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Lifecycle;

/// <summary>
/// An on-demand request served end to end by the whole application (API and manager) on the dummy provider with tiny
/// delays, driven only over HTTP (spec §2.6, §4.7). The same scenario runs on Redis in <c>OnDemandRedisTests</c>.
/// </summary>
public class OnDemandLifecycleTests(ITestOutputHelper output)
{
    /// <summary>The pool the scenario uses, its size and its domain.</summary>
    public const string Pool = "odpool";

    public const int Size = 2;

    /// <summary>Dummy pools with tiny delays; <paramref name="extra"/> is appended (a <c>:redis:</c> section).</summary>
    public static string Yaml(string extra = "") => """
        ---
        :providers:
          :dummy:
            createvm_min_time: 0.01
            createvm_max_time: 0.03
            boot_min_time: 0.01
            boot_max_time: 0.03
        :dns_configs:
          :example:
            dns_class: dynamic-dns
            domain: 'example.com'
        :config:
          check_loop_delay_min: 0.1
          check_loop_delay_max: 0.5
          check_loop_delay_decay: 2.0
        :pools:
          - name: 'odpool'
            alias: 'od'
            size: 2
            dns_plugin: example
        """ + "\n" + extra;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task OnDemand_MemoryInventory_RequestIsClonedDeliveredAndReturned()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml(), VmPoolerRole.All, output: output);

        await RunScenarioAsync(server);
    }

    [Fact]
    public async Task OnDemand_ThroughAnAlias_HostnamesAreListedUnderTheAlias()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml(), VmPoolerRole.All, output: output);

        var id = (await server.PostAsync("api/v3/ondemandvm/od")).ShouldBeJson(HttpStatusCode.Created).Object["request_id"]!.GetValue<string>();
        var ready = await WaitUntilReadyAsync(server, id);

        ready.Keys.ShouldBe(["ok", "request_id", "ready", "od"]);
        ready.Object["od"]!["hostname"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task OnDemand_ClonesAlwaysFail_RequestFailsAfterMaxVmRetriesWithTheReason()
    {
        var yaml = Yaml()
            .Replace("    createvm_min_time: 0.01", "    createvm_fail_percent: 100\n    createvm_min_time: 0.01", StringComparison.Ordinal)
            .Replace("  check_loop_delay_min: 0.1", "  max_vm_retries: 1\n  check_loop_delay_min: 0.1", StringComparison.Ordinal)
            // No clones of the pool's own: their failures would keep the pool's clone back-off armed and delay the retry.
            .Replace("    size: 2", "    size: 0", StringComparison.Ordinal);
        await using var server = await VmPoolerServer.StartAsync(yaml, VmPoolerRole.All, output: output);

        (await server.PostAsync("api/v3/ondemandvm", $$"""{"{{Pool}}": 1, "request_id": "doomed-1"}""")).ShouldBeJson(HttpStatusCode.Created);

        ApiResponse? last = null;
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (last = await server.GetAsync("api/v3/ondemandvm/doomed-1")).Status == HttpStatusCode.OK,
            "the request fails once its retries are used up (long before its 5-minute TTL)",
            Patience);
        last!.ShouldBeJson(HttpStatusCode.OK);
        last.Object["ready"]!.GetValue<bool>().ShouldBeFalse();
        var reason = last.Object["failure_reason"]!.GetValue<string>();
        reason.ShouldContain("2 instances failed, more than max_vm_retries (1)");
        reason.ShouldContain("injected create_vm failure");
    }

    private static async Task<JsonObject> PoolStatusAsync(VmPoolerServer server)
        => (await server.GetAsync("api/v3/status?view=pools")).ShouldBeJson(HttpStatusCode.OK).Object["pools"]![Pool]!.AsObject();

    private static async Task<ApiResponse> WaitUntilReadyAsync(VmPoolerServer server, string id)
    {
        ApiResponse? last = null;
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (last = await server.GetAsync($"api/v3/ondemandvm/{id}")).Status == HttpStatusCode.OK,
            $"request {id} is ready",
            Patience);
        last!.ShouldBeJson(HttpStatusCode.OK);
        last.Object["ready"]!.GetValue<bool>().ShouldBeTrue($"body: {last.Body}");
        return last;
    }

    /// <summary>
    /// The scenario: the pool fills; a request for 2 is pending (202, counts as strings), then ready (200, FQDNs); its VMs
    /// are running and the pool keeps its own ready VMs; DELETE returns them (destroyed soon after); a second DELETE and
    /// a GET report the deletion.
    /// </summary>
    internal static async Task RunScenarioAsync(VmPoolerServer server)
    {
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await PoolStatusAsync(server))["ready"]!.GetValue<int>() == Size, $"{Pool} is full", Patience);
        var poolVms = (await server.Inventory.GetPoolAsync(Pool, CancellationToken.None).DefaultTimeout()).Ready.Select(v => v.Name).ToList();

        var created = await server.PostAsync("api/v3/ondemandvm", $$"""{"{{Pool}}": 2, "request_id": "lifecycle-1"}""");
        created.ShouldBeJson(HttpStatusCode.Created);

        // The manager starts work within a second; right after the POST the request is normally still in progress.
        var first = await server.GetAsync("api/v3/ondemandvm/lifecycle-1");
        if (first.Status == HttpStatusCode.Accepted)
        {
            first.ShouldBeJson(HttpStatusCode.Accepted);
            first.Keys.ShouldBe(["ok", "request_id", "ready", Pool]);
            first.Object["ready"]!.GetValue<bool>().ShouldBeFalse();
            var counts = first.Object[Pool]!.AsObject();
            var readyCount = counts["ready"]!.GetValue<string>();
            var pendingCount = counts["pending"]!.GetValue<string>();
            (int.Parse(readyCount, System.Globalization.CultureInfo.InvariantCulture)
                + int.Parse(pendingCount, System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(2, first.Body);
        }

        var ready = await WaitUntilReadyAsync(server, "lifecycle-1");
        ready.Keys.ShouldBe(["ok", "request_id", "ready", Pool]);
        var hostnames = ready.Object[Pool]!["hostname"]!.AsArray().Select(h => h!.GetValue<string>()).ToList();
        hostnames.Count.ShouldBe(2);
        hostnames.ShouldAllBe(h => h.EndsWith(".example.com", StringComparison.Ordinal));
        var vms = hostnames.Select(h => h.Split('.')[0]).ToList();
        vms.ShouldAllBe(vm => !poolVms.Contains(vm), "on-demand VMs are cloned for the request, not taken from the pool");
        foreach (var hostname in hostnames)
        {
            var details = (await server.GetAsync("api/v3/vm/" + hostname)).ShouldBeJson(HttpStatusCode.OK).Object;
            details[hostname.Split('.')[0]]!["state"]!.GetValue<string>().ShouldBe("running");
        }

        // On-demand VMs are extra: the pool keeps its own ready VMs (and did not clone replacements for these).
        var status = await PoolStatusAsync(server);
        status["ready"]!.GetValue<int>().ShouldBe(Size, status.ToJsonString());
        status["running"]!.GetValue<int>().ShouldBe(2, status.ToJsonString());
        (await server.Inventory.GetPoolAsync(Pool, CancellationToken.None).DefaultTimeout()).Ready.Select(v => v.Name).ShouldBe(poolVms, ignoreOrder: true);

        (await server.DeleteAsync("api/v3/ondemandvm/lifecycle-1")).ShouldBeOkTrue();
        foreach (var vm in vms)
        {
            await AsyncTestHelpers.WaitUntilAsync(
                async () => (await server.GetAsync("api/v3/vm/" + vm)).Object[vm]?["state"]?.GetValue<string>() is "destroyed" or null,
                $"{vm} of the deleted request is destroyed",
                Patience);
        }

        var again = await server.DeleteAsync("api/v3/ondemandvm/lifecycle-1");
        again.ShouldBeJson(HttpStatusCode.OK);
        again.Body.ShouldBe("{\n  \"ok\": true,\n  \"message\": \"the request has already been deleted\"\n}");
        var get = await server.GetAsync("api/v3/ondemandvm/lifecycle-1");
        get.ShouldBeJson(HttpStatusCode.OK);
        get.Object["message"]!.GetValue<string>().ShouldBe("The request has been deleted");
        get.Object["ready"]!.GetValue<bool>().ShouldBeFalse();

        var after = await PoolStatusAsync(server);
        after["running"]!.GetValue<int>().ShouldBe(0, after.ToJsonString());
        after["ready"]!.GetValue<int>().ShouldBe(Size, after.ToJsonString());
    }
}
