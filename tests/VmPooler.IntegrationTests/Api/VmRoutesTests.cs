using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// The <c>/api/v3/vm</c> routes over real HTTP (spec §2.3, §2.4). Each test starts its own API server (no pool manager,
/// so the state is exactly what the test seeds) from <see cref="TestConfigs.ApiPools"/>.
/// </summary>
public partial class VmRoutesTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private Task<VmPoolerServer> StartAsync(string yaml = TestConfigs.ApiPools, FakeTimeProvider? clock = null)
        => VmPoolerServer.StartAsync(
            yaml,
            VmPoolerRole.Api,
            clock is null ? null : services => services.AddSingleton<TimeProvider>(clock),
            output);

    private static string Hostname(ApiResponse response, string key) => response.Object[key]!["hostname"]!.GetValue<string>();

    private static JsonObject Details(ApiResponse response, string vm)
    {
        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", vm]);
        response.Object["ok"]!.GetValue<bool>().ShouldBeTrue();
        return response.Object[vm]!.AsObject();
    }

    private static IReadOnlyList<string> KeysOf(JsonObject node) => [.. node.Select(p => p.Key)];

    /// <summary>Checks a VM out over HTTP (path form) and returns the hostname the API gave.</summary>
    private static async Task<string> CheckOutAsync(VmPoolerServer server, string pool)
    {
        var response = await server.PostAsync($"api/v3/vm/{pool}");
        response.ShouldBeJson(HttpStatusCode.OK);
        return Hostname(response, pool);
    }

    // ---- GET /api/v3/vm ----------------------------------------------------------------------------------------

    [Fact]
    public async Task GetVmList_Always_ReturnsPoolNamesInConfigOrder()
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/vm");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Json.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["debian", "centos", "ubuntu", "spare"]);
    }

    // ---- GET /api/v3/vm/<hostname> -----------------------------------------------------------------------------

    [Fact]
    public async Task GetVm_RunningVmWithLifetime_ReportsEveryFieldInOrder()
    {
        var clock = new FakeTimeProvider(Start);
        await using var server = await StartAsync(clock: clock);
        await server.SeedReadyAsync("debian", "d1");
        (await CheckOutAsync(server, "debian")).ShouldBe("d1.example.com");
        clock.Advance(TimeSpan.FromMinutes(90));
        (await server.PutAsync("api/v3/vm/d1", """{"lifetime": 4}""")).ShouldBeOkTrue();

        var details = Details(await server.GetAsync("api/v3/vm/d1"), "d1");

        KeysOf(details).ShouldBe(["template", "lifetime", "running", "remaining", "start_time", "end_time", "state", "ip", "fqdn"]);
        details["template"]!.GetValue<string>().ShouldBe("debian");
        details["lifetime"]!.ToJsonString().ShouldBe("4");
        details["running"]!.GetValue<double>().ShouldBe(1.5);
        details["remaining"]!.GetValue<double>().ShouldBe(2.5);
        details["start_time"]!.GetValue<string>().ShouldBe("2026-01-01T12:00:00+00:00");
        details["end_time"]!.GetValue<string>().ShouldBe("2026-01-01T16:00:00+00:00");
        details["state"]!.GetValue<string>().ShouldBe("running");
        details["ip"]!.GetValueKind().ShouldBe(JsonValueKind.String);
        details["fqdn"]!.GetValue<string>().ShouldBe("d1.example.com");
    }

    [Fact]
    public async Task GetVm_RunningVmWithoutLifetime_ReportsDefaultLifetimeAsIntegerAndRfc3339Times()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("centos", "c1");
        await CheckOutAsync(server, "centos");

        var details = Details(await server.GetAsync("api/v3/vm/c1"), "c1");

        details["template"]!.GetValue<string>().ShouldBe("centos");
        details["lifetime"]!.GetValueKind().ShouldBe(JsonValueKind.Number);
        details["lifetime"]!.ToJsonString().ShouldBe("12");
        details["state"]!.GetValue<string>().ShouldBe("running");
        details["running"]!.GetValueKind().ShouldBe(JsonValueKind.Number);
        details["remaining"]!.GetValueKind().ShouldBe(JsonValueKind.Number);
        details["start_time"]!.GetValue<string>().ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$");
        details["end_time"]!.GetValue<string>().ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$");
        details.ContainsKey("ip").ShouldBeTrue();
    }

    [Fact]
    public async Task GetVm_WithSshPortAndHostKeyFingerprint_ReportsBoth()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        await server.Inventory.UpdateFieldsAsync("d1", new Dictionary<string, string>
        {
            [VmFields.SshPort] = "2222",
            [VmFields.HostKeyFingerprint] = "SHA256:TKPrgQqjJyGkJMVV7gCgzVz5fLzDlLWUXev7fH4ItwQ",
        });

        var details = Details(await server.GetAsync("api/v3/vm/d1"), "d1");

        details["ssh_port"]!.GetValue<int>().ShouldBe(2222);
        details["host_key_fingerprint"]!.GetValue<string>().ShouldBe("SHA256:TKPrgQqjJyGkJMVV7gCgzVz5fLzDlLWUXev7fH4ItwQ");
    }

    [Fact]
    public async Task GetVm_ReadyVm_ReportsStateReadyWithoutRunningTimes()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var details = Details(await server.GetAsync("api/v3/vm/d1"), "d1");

        details["state"]!.GetValue<string>().ShouldBe("ready");
        details["template"]!.GetValue<string>().ShouldBe("debian");
        details["lifetime"]!.ToJsonString().ShouldBe("12");
        details.ContainsKey("remaining").ShouldBeFalse();
        details.ContainsKey("start_time").ShouldBeFalse();
        details.ContainsKey("end_time").ShouldBeFalse();
        details["fqdn"]!.GetValue<string>().ShouldBe("d1.example.com");
    }

    [Fact]
    public async Task GetVm_PendingVm_ReportsStatePending()
    {
        await using var server = await StartAsync();
        await server.SeedPendingAsync("debian", "p1");

        var details = Details(await server.GetAsync("api/v3/vm/p1"), "p1");

        details["state"]!.GetValue<string>().ShouldBe("pending");
    }

    [Fact]
    public async Task GetVm_PoolWithoutDomain_OmitsFqdn()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("ubuntu", "u1");

        var details = Details(await server.GetAsync("api/v3/vm/u1"), "u1");

        details.ContainsKey("fqdn").ShouldBeFalse();
        details["template"]!.GetValue<string>().ShouldBe("ubuntu");
    }

    [Fact]
    public async Task GetVm_Fqdn_AnswersLikeTheShortName()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var byShortName = await server.GetAsync("api/v3/vm/d1");
        var byFqdn = await server.GetAsync("api/v3/vm/d1.example.com");

        byFqdn.ShouldBeJson(HttpStatusCode.OK);
        byFqdn.Body.ShouldBe(byShortName.Body);
    }

    [Fact]
    public async Task GetVm_UnknownHost_Returns404()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        (await server.GetAsync("api/v3/vm/nosuchvm")).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.GetAsync("api/v3/vm/nosuchvm.example.com")).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("bad_host!", "Invalid hostname format")]
    [InlineData("-leading-dash", "Invalid hostname format")]
    [InlineData("trailing-dash-", "Invalid hostname format")]
    [InlineData("a..b", "Invalid hostname format")]
    public async Task GetVm_InvalidHostname_Returns400WithError(string hostname, string expected)
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/vm/" + Uri.EscapeDataString(hostname));

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldBe(expected);
    }

    [Fact]
    public async Task GetVm_HostnameOver253Characters_Returns400TooLong()
    {
        await using var server = await StartAsync();
        var hostname = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)); // 255 characters

        var response = await server.GetAsync("api/v3/vm/" + hostname);

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Hostname too long");
    }

    [Fact]
    public async Task GetVm_AfterTagsSet_ReportsTagsBeforeIp()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        await CheckOutAsync(server, "debian");
        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"project": "x", "owner": "me"}}""")).ShouldBeOkTrue();

        var details = Details(await server.GetAsync("api/v3/vm/d1"), "d1");

        KeysOf(details).ShouldBe(["template", "lifetime", "running", "remaining", "start_time", "end_time", "state", "tags", "ip", "fqdn"]);
        details["tags"]!.ToJsonString().ShouldBe("""{"project":"x","owner":"me"}""");
    }
}
