using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Operations;

/// <summary>
/// Issue 14's dead-letter queue through the whole application: failures injected through the dummy provider fill the
/// queue with the provider's own reasons, <c>GET /api/v3/dlq</c> lists them and <c>GET /api/v3/vm/&lt;host&gt;</c> of a
/// failed VM says why; on the embedded inventory and on a real redis-server.
/// </summary>
[Collection(RedisCollection.Name)]
public class DeadLetterEndToEndTests(RedisFixtures redis, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>'broken' never clones; 'slow' clones but never boots within its 1.2 s timeout.</summary>
    public static string Yaml(string extra = "") => $$"""
        :providers:
          :badclone:
            provider_class: dummy
            createvm_max_time: 0
            createvm_fail_percent: 100
          :slowboot:
            provider_class: dummy
            createvm_max_time: 0
            boot_min_time: 600
            boot_max_time: 600
        :config:
          dlq_enabled: true
          check_loop_delay_min: 0.1
          check_loop_delay_max: 0.3
        {{extra}}
        :pools:
          - name: broken
            size: 1
            provider: badclone
          - name: slow
            size: 1
            timeout: 0.02
            provider: slowboot
        """;

    private static async Task<JsonObject> DlqAsync(VmPoolerServer server, string query)
        => (await server.GetAsync("api/v3/dlq" + query)).ShouldBeJson(HttpStatusCode.OK).Object;

    [Fact]
    public Task Failures_EmbeddedInventory_ListedWithTheirReasons() => RunAsync(Yaml());

    [Fact]
    public Task Failures_Redis_ListedWithTheirReasons()
        => RunAsync(Yaml() + $"\n:redis:\n  server: 127.0.0.1\n  port: {redis.Server.Port}\n  key_prefix: {RedisFixtures.NewPrefix()}\n");

    private async Task RunAsync(string yaml)
    {
        await using var server = await VmPoolerServer.StartAsync(yaml, VmPoolerRole.All, output: output);

        JsonObject broken = null!;
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (broken = await DlqAsync(server, "?pool=broken"))["total"]!.GetValue<int>() >= 2,
            "two clone failures are dead-lettered",
            Deadline);
        broken["enabled"]!.GetValue<bool>().ShouldBeTrue();
        var entries = broken["entries"]!.AsArray();
        entries.ShouldAllBe(e => e!["pool"]!.GetValue<string>() == "broken" && e["queue"]!.GetValue<string>() == "clone");
        entries[0]!["reason"]!.GetValue<string>().ShouldBe("dummy provider: injected create_vm failure");
        var attempts = entries.Select(e => e!["attempts"]!.GetValue<int>()).ToList();
        attempts.ShouldBe(attempts.OrderDescending().ToList(), "newest first: consecutive failures count up");
        attempts[0].ShouldBeGreaterThan(1);

        JsonObject slow = null!;
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (slow = await DlqAsync(server, "?pool=slow"))["total"]!.GetValue<int>() >= 1,
            "a pending timeout is dead-lettered",
            Deadline);
        var timedOut = slow["entries"]![0]!;
        timedOut["queue"]!.GetValue<string>().ShouldBe("pending");
        timedOut["reason"]!.GetValue<string>().ShouldBe("not ready within 0.02 minutes: still booting");

        // The failed VM says why.
        var vm = entries[0]!["vm"]!.GetValue<string>();
        var details = (await server.GetAsync("api/v3/vm/" + vm)).ShouldBeJson(HttpStatusCode.OK).Object[vm]!;
        details["failure"]!["queue"]!.GetValue<string>().ShouldBe("clone");
        details["failure"]!["reason"]!.GetValue<string>().ShouldBe("dummy provider: injected create_vm failure");

        // Everything, newest first, paged.
        var all = await DlqAsync(server, "?limit=2");
        all["entries"]!.AsArray().Count.ShouldBe(2);
        all["total"]!.GetValue<int>().ShouldBeGreaterThanOrEqualTo(3);
        var times = all["entries"]!.AsArray().Select(e => DateTimeOffset.Parse(e!["failed_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        times[0].ShouldBeGreaterThanOrEqualTo(times[1]);
    }

    [Theory]
    [InlineData("?pool=nosuch", HttpStatusCode.NotFound)]
    [InlineData("?limit=0", HttpStatusCode.BadRequest)]
    [InlineData("?limit=5000", HttpStatusCode.BadRequest)]
    [InlineData("?offset=-1", HttpStatusCode.BadRequest)]
    [InlineData("?offset=abc", HttpStatusCode.BadRequest)]
    public async Task Dlq_BadQuery_Answers4xxJson(string query, HttpStatusCode expected)
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml(), VmPoolerRole.Api, output: output);

        (await server.GetAsync("api/v3/dlq" + query)).ShouldBeJson(expected).Object["ok"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task Dlq_Disabled_EmptyAndSaysSo()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml().Replace("dlq_enabled: true", "dlq_enabled: false", StringComparison.Ordinal), VmPoolerRole.All, output: output);

        var dlq = await DlqAsync(server, "");
        dlq["enabled"]!.GetValue<bool>().ShouldBeFalse();
        dlq["total"]!.GetValue<int>().ShouldBe(0);
    }
}
