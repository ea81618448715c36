using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;
using static VmPooler.IntegrationTests.Fixtures.AuthTestSupport;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// <c>POST /vm/&lt;host&gt;/disk/&lt;size&gt;</c>, <c>POST /vm/&lt;host&gt;/snapshot</c> and
/// <c>POST /vm/&lt;host&gt;/snapshot/&lt;name&gt;</c> (spec §2.4, §4.9): the API queues (202), the manager carries the task
/// out through the provider and <c>GET /vm/&lt;host&gt;</c> shows the result.
/// </summary>
public class VmTaskRoutesTests(ITestOutputHelper output)
{
    /// <summary>The whole application on the dummy provider with tiny delays, with dummy auth.</summary>
    private const string ManagedYaml = """
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
          - name: 'debian'
            size: 1
            dns_plugin: example
        :auth:
          provider: 'dummy'
        """;

    private static readonly TimeSpan ManagerTimeout = TimeSpan.FromSeconds(20);

    private Task<VmPoolerServer> StartAsync(bool auth = true)
        => StartApiAsync(auth ? WithDummyAuth(TestConfigs.ApiPools) : TestConfigs.ApiPools, output);

    /// <summary>Seeds d1 (checked out, without a token) and d2 (ready).</summary>
    private static async Task SeedAsync(VmPoolerServer server)
    {
        await server.SeedReadyAsync("debian", "d1", "d2");
        (await server.PostAsync("api/v3/vm/debian")).ShouldBeJson(HttpStatusCode.OK);
    }

    public static TheoryData<string> TaskPaths => new() { "disk/8", "snapshot", "snapshot/n4eb4kdtp7rwv4x158366vd9jhac8btq" };

    // ---- tokens -----------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(TaskPaths))]
    public async Task Task_WithoutToken_Returns401WhenAuthIsConfigured(string path)
    {
        await using var server = await StartAsync();
        await SeedAsync(server);

        (await server.PostAsync("api/v3/vm/d1/" + path)).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/d1/" + path, token: "abcdefghijklmnopqrstuvwxyz012345")).ShouldBeUnauthorized();
    }

    [Theory]
    [InlineData("disk/0")]
    [InlineData("disk/abc")]
    [InlineData("snapshot")]
    public async Task Task_WithoutTokenOnUnknownVmOrBadSize_Returns401First(string path)
    {
        // Spec §2.4: the token check comes first (401), then hostname and size validation, then the VM lookup.
        await using var server = await StartAsync();

        (await server.PostAsync("api/v3/vm/nosuchvm/" + path)).ShouldBeUnauthorized();
    }

    [Fact]
    public async Task Disk_WithoutAuthSection_NeedsNoToken()
    {
        await using var server = await StartAsync(auth: false);
        await SeedAsync(server);

        var response = await server.PostAsync("api/v3/vm/d1/disk/8");

        response.ShouldBeJson(HttpStatusCode.Accepted);
        response.Json.Compact().ShouldBe("""{"ok":true,"d1":{"disk":"+8gb"}}""");
    }

    // ---- validation and lookup --------------------------------------------------------------------------------

    [Theory]
    [InlineData("0", "Disk size must be at least 1")]
    [InlineData("2049", "Disk size must be at most 2048")]
    [InlineData("abc", "Disk size must be a valid integer")]
    [InlineData("-1", "Disk size must be a valid integer")]
    [InlineData("8.5", "Disk size must be a valid integer")]
    public async Task Disk_BadSize_Returns400WithSpecMessage(string size, string message)
    {
        await using var server = await StartAsync();
        await SeedAsync(server);
        var token = await server.CreateTokenAsync();

        var response = await server.RequestAsync(HttpMethod.Post, $"api/v3/vm/d1/disk/{size}", token: token);

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldBe(message);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2048")]
    public async Task Disk_SizeAtTheLimits_Returns202(string size)
    {
        await using var server = await StartAsync();
        await SeedAsync(server);
        var token = await server.CreateTokenAsync();

        var response = await server.RequestAsync(HttpMethod.Post, $"api/v3/vm/d1/disk/{size}", token: token);

        response.ShouldBeJson(HttpStatusCode.Accepted);
        response.Json.Compact().ShouldBe($$$"""{"ok":true,"d1":{"disk":"+{{{size}}}gb"}}""");
    }

    [Theory]
    [MemberData(nameof(TaskPaths))]
    public async Task Task_UnknownVm_Returns404(string path)
    {
        await using var server = await StartAsync();
        await SeedAsync(server);
        var token = await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/nosuchvm/" + path, token: token)).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Theory]
    [MemberData(nameof(TaskPaths))]
    public async Task Task_VmNotRunning_Returns404(string path)
    {
        await using var server = await StartAsync();
        await SeedAsync(server);
        var token = await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/d2/" + path, token: token)).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Task_InvalidHostname_Returns400()
    {
        await using var server = await StartAsync();
        var token = await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/-bad-/disk/8", token: token))
            .ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Invalid hostname format");
    }

    // ---- 202 bodies -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("api/v3/vm/d1/disk/8")]
    [InlineData("api/v2/vm/d1.example.com/disk/8")]
    [InlineData("api/v1/vm/d1/disk/8")]
    public async Task Disk_RunningVm_Returns202WithOkFirstThenTheVm(string path)
    {
        await using var server = await StartAsync();
        await SeedAsync(server);
        var token = await server.CreateTokenAsync();

        var response = await server.RequestAsync(HttpMethod.Post, path, token: token);

        response.ShouldBeJson(HttpStatusCode.Accepted);
        response.Keys.ShouldBe(["ok", "d1"]);
        response.Json.Compact().ShouldBe("""{"ok":true,"d1":{"disk":"+8gb"}}""");
    }

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task Snapshot_RunningVm_Returns202WithANewSnapshotName(string prefix)
    {
        await using var server = await StartAsync();
        await SeedAsync(server);
        var token = await server.CreateTokenAsync();

        var response = await server.RequestAsync(HttpMethod.Post, Route(prefix, "vm/d1/snapshot"), token: token);

        response.ShouldBeJson(HttpStatusCode.Accepted);
        response.Keys.ShouldBe(["ok", "d1"]);
        response.Object["ok"]!.GetValue<bool>().ShouldBeTrue();
        var snapshot = response.Object["d1"]!.AsObject();
        snapshot.Select(p => p.Key).ShouldBe(["snapshot"]);
        snapshot["snapshot"]!.GetValue<string>().ShouldMatch(TokenShape().ToString());
    }

    [Fact]
    public async Task Revert_UnknownSnapshot_Returns404()
    {
        await using var server = await StartAsync();
        await SeedAsync(server);
        var token = await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/d1/snapshot/n4eb4kdtp7rwv4x158366vd9jhac8btq", token: token))
            .ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    // ---- carried out by the manager ---------------------------------------------------------------------------

    [Fact]
    public async Task DiskAndSnapshot_WithTheManagerRunning_AppearInGetVmAndTheSnapshotCanBeReverted()
    {
        await using var server = await VmPoolerServer.StartAsync(ManagedYaml, VmPoolerRole.All, output: output, environment: DebugEnvironment);
        var token = await server.CreateTokenAsync();
        await AsyncTestHelpers.WaitUntilAsync(async () => (await server.CountsAsync("debian")).Ready == 1, "the pool has a ready VM", ManagerTimeout);
        var checkout = await server.RequestAsync(HttpMethod.Post, "api/v3/vm/debian", token: token);
        checkout.ShouldBeJson(HttpStatusCode.OK);
        var fqdn = checkout.Object["debian"]!["hostname"]!.GetValue<string>();
        var vm = fqdn.Split('.')[0];

        var disk = await server.RequestAsync(HttpMethod.Post, $"api/v3/vm/{fqdn}/disk/8", token: token);
        disk.ShouldBeJson(HttpStatusCode.Accepted);
        disk.Json.Compact().ShouldBe($$$"""{"ok":true,"{{{vm}}}":{"disk":"+8gb"}}""");
        var snapshotResponse = await server.RequestAsync(HttpMethod.Post, $"api/v3/vm/{vm}/snapshot", token: token);
        snapshotResponse.ShouldBeJson(HttpStatusCode.Accepted);
        var snapshot = snapshotResponse.Object[vm]!["snapshot"]!.GetValue<string>();

        JsonObject? details = null;
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                details = (await server.GetAsync("api/v3/vm/" + vm)).ShouldBeJson(HttpStatusCode.OK).Object[vm]!.AsObject();
                return details.ContainsKey("disk") && details.ContainsKey("snapshots");
            },
            "the manager has added the disk and taken the snapshot",
            ManagerTimeout);
        details!["disk"]!.Compact().ShouldBe("""["+8gb"]""");
        details["snapshots"]!.Compact().ShouldBe($"""["{snapshot}"]""");
        details["state"]!.GetValue<string>().ShouldBe("running");

        (await server.RequestAsync(HttpMethod.Post, $"api/v3/vm/{vm}/snapshot/n4eb4kdtp7rwv4x158366vd9jhac8btq", token: token))
            .ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.PostAsync($"api/v3/vm/{vm}/snapshot/{snapshot}")).ShouldBeUnauthorized();
        var revert = await server.RequestAsync(HttpMethod.Post, $"api/v3/vm/{vm}/snapshot/{snapshot}", token: token);
        revert.ShouldBeJson(HttpStatusCode.Accepted);
        revert.Json.Compact().ShouldBe("""{"ok":true}""");

        // A second disk is appended to the list (colon-separated in the metadata, an array in the answer).
        (await server.RequestAsync(HttpMethod.Post, $"api/v1/vm/{vm}/disk/16", token: token)).ShouldBeJson(HttpStatusCode.Accepted);
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.GetAsync("api/v3/vm/" + vm)).Object[vm]!["disk"]!.Compact() == """["+8gb","+16gb"]""",
            "the manager has added the second disk",
            ManagerTimeout);
    }

    [Fact]
    public async Task PutWithDiskKey_AsVmfloatySendsIt_QueuesADiskTheManagerAdds()
    {
        await using var server = await VmPoolerServer.StartAsync(ManagedYaml, VmPoolerRole.All, output: output, environment: DebugEnvironment);
        var token = await server.CreateTokenAsync();
        await AsyncTestHelpers.WaitUntilAsync(async () => (await server.CountsAsync("debian")).Ready == 1, "the pool has a ready VM", ManagerTimeout);
        var vm = (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/debian", token: token)).Object["debian"]!["hostname"]!.GetValue<string>().Split('.')[0];

        (await server.PutAsync("api/v3/vm/" + vm, """{"disk": 8}""")).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Put, "api/v3/vm/" + vm, body: """{"disk": 0}""", token: token)).ShouldBeFailure()
            .ShouldBe(["Disk size must be at least 1"]);
        (await server.RequestAsync(HttpMethod.Put, "api/v3/vm/" + vm, body: """{"disk": "12"}""", token: token)).ShouldBeOkTrue();

        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.GetAsync("api/v3/vm/" + vm)).Object[vm]!.AsObject()["disk"]?.Compact() == """["+12gb"]""",
            "the manager has added the disk asked for in the PUT body",
            ManagerTimeout);
    }
}
