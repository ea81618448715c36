using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Api;

/// <summary>/api/v3/status, /api/v3/poolstat and /api/v3/totalrunning over real HTTP (spec §2.8).</summary>
public class StatusRoutesTests(ITestOutputHelper output)
{
    private const string FullyArmed = "Battle station fully armed and operational.";

    private Task<VmPoolerServer> StartAsync() => VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api, output: output);

    private static IReadOnlyList<string> KeysOf(JsonNode? node) => [.. node.ShouldNotBeNull().AsObject().Select(p => p.Key)];

    private static async Task<JsonObject> StatusAsync(VmPoolerServer server, string query = "")
    {
        var response = await server.GetAsync("api/v3/status" + query);
        response.ShouldBeJson(HttpStatusCode.OK);
        return response.Object;
    }

    /// <summary>Every pool with a size gets a ready VM, so no pool is empty.</summary>
    private static async Task SeedEveryPoolAsync(VmPoolerServer server)
    {
        await server.SeedReadyAsync("debian", "d1");
        await server.SeedReadyAsync("centos", "c1");
        await server.SeedReadyAsync("ubuntu", "u1");
    }

    // ---- GET /api/v3/status -------------------------------------------------------------------------------------

    [Fact]
    public async Task Status_NoView_ReturnsEverySectionInAlphabeticalOrder()
    {
        await using var server = await StartAsync();

        var status = await StatusAsync(server);

        KeysOf(status).ShouldBe(["boot", "capacity", "clone", "pools", "queue", "status"]);
    }

    [Theory]
    [InlineData("?view=capacity", new[] { "capacity", "status" })]
    [InlineData("?view=pools,queue", new[] { "pools", "queue", "status" })]
    [InlineData("?view=queue,pools", new[] { "pools", "queue", "status" })]
    [InlineData("?view=clone,boot", new[] { "boot", "clone", "status" })]
    [InlineData("?view=capacity,bogus", new[] { "capacity", "status" })]
    [InlineData("?view=bogus", new[] { "status" })]
    [InlineData("?view=status", new[] { "status" })]
    [InlineData("?view=", new[] { "status" })]
    [InlineData("?view", new[] { "boot", "capacity", "clone", "pools", "queue", "status" })]
    [InlineData("?other=1", new[] { "boot", "capacity", "clone", "pools", "queue", "status" })]
    public async Task Status_View_ReturnsOnlyTheNamedSectionsAndStatus(string query, string[] expected)
    {
        await using var server = await StartAsync();

        var status = await StatusAsync(server, query);

        KeysOf(status).ShouldBe(expected);
    }

    [Fact]
    public async Task Status_BareViewAfterAParameterEndingInView_ReturnsEverything()
    {
        // "?preview=1&view": the view parameter has no "=", so it behaves like no view parameter (Rack: view is nil).
        await using var server = await StartAsync();

        var status = await StatusAsync(server, "?preview=1&view");

        KeysOf(status).ShouldBe(["boot", "capacity", "clone", "pools", "queue", "status"]);
    }

    [Fact]
    public async Task Status_EmptyPools_ListsThemWithMessage()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var status = (await StatusAsync(server))["status"]!;

        KeysOf(status).ShouldBe(["ok", "message", "empty", "uptime"]);
        status["ok"]!.GetValue<bool>().ShouldBeFalse();
        status["message"]!.GetValue<string>().ShouldBe("Found 2 empty pools.");
        status["empty"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldBe(["centos", "ubuntu"]); // spare has size 0
    }

    [Fact]
    public async Task Status_NoPoolEmpty_IsFullyArmed()
    {
        await using var server = await StartAsync();
        await SeedEveryPoolAsync(server);

        var status = (await StatusAsync(server))["status"]!;

        KeysOf(status).ShouldBe(["ok", "message", "uptime"]);
        status["ok"]!.GetValue<bool>().ShouldBeTrue();
        status["message"]!.GetValue<string>().ShouldBe(FullyArmed);
        status["uptime"]!.GetValueKind().ShouldBe(JsonValueKind.Number);
        status["uptime"]!.GetValue<double>().ShouldBeGreaterThanOrEqualTo(0);
    }

    [Fact]
    public async Task Status_ViewWithoutPools_DoesNotScanForEmptyPools()
    {
        await using var server = await StartAsync();

        var status = (await StatusAsync(server, "?view=capacity"))["status"]!;

        status["ok"]!.GetValue<bool>().ShouldBeTrue();
        status["message"]!.GetValue<string>().ShouldBe(FullyArmed);
        status.AsObject().ContainsKey("empty").ShouldBeFalse();
    }

    [Fact]
    public async Task Status_Pools_ReportsCountsAndAliasesAsConfigured()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1", "d2", "d3");
        await server.SeedPendingAsync("debian", "p1");
        (await server.PostAsync("api/v3/vm/debian")).ShouldBeJson(HttpStatusCode.OK);

        var pools = (await StatusAsync(server))["pools"]!;

        KeysOf(pools).ShouldBe(["debian", "centos", "ubuntu", "spare"]);
        var debian = pools["debian"]!;
        KeysOf(debian).ShouldBe(["ready", "running", "pending", "max", "lastBoot", "alias"]);
        debian["ready"]!.GetValue<int>().ShouldBe(2);
        debian["running"]!.GetValue<int>().ShouldBe(1);
        debian["pending"]!.GetValue<int>().ShouldBe(1);
        debian["max"]!.GetValue<int>().ShouldBe(3);
        debian["lastBoot"]!.GetValue<string>().ShouldBe("");
        debian["alias"]!.ToJsonString().ShouldBe("""["deb","linux"]""");
        pools["centos"]!["alias"]!.GetValueKind().ShouldBe(JsonValueKind.String);
        pools["centos"]!["alias"]!.GetValue<string>().ShouldBe("el");
        KeysOf(pools["ubuntu"]).ShouldBe(["ready", "running", "pending", "max", "lastBoot"]);
        pools["spare"]!["max"]!.GetValue<int>().ShouldBe(0);
    }

    [Fact]
    public async Task Status_LastBoot_IsTheLatestBootInRubyTimeFormat()
    {
        await using var server = await StartAsync();
        var booted = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);
        await server.Inventory.RecordDurationAsync(DurationKind.Boot, "centos", "c1", 12.5, booted, CancellationToken.None).DefaultTimeout();

        var pools = (await StatusAsync(server))["pools"]!;

        pools["centos"]!["lastBoot"]!.GetValue<string>().ShouldBe("2026-03-04 05:06:07 +0000");
        pools["debian"]!["lastBoot"]!.GetValue<string>().ShouldBe("");
    }

    [Fact]
    public async Task Status_Capacity_SumsReadyOverSize()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        await server.SeedReadyAsync("centos", "c1");
        await server.SeedPendingAsync("ubuntu", "p1");

        var capacity = (await StatusAsync(server))["capacity"]!;

        KeysOf(capacity).ShouldBe(["current", "total", "percent"]);
        capacity["current"]!.GetValue<int>().ShouldBe(2);
        capacity["total"]!.GetValue<int>().ShouldBe(6);
        capacity["percent"]!.GetValue<double>().ShouldBe(33.3);
    }

    [Fact]
    public async Task Status_Queue_CountsEveryState()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "r1", "r2", "r3");
        await server.SeedPendingAsync("centos", "cloning1");
        await server.SeedPendingAsync("centos", "booting1");
        (await server.Inventory.UpdateFieldsAsync("booting1", new Dictionary<string, string> { [VmFields.CloneTime] = "1.5" }).DefaultTimeout()).ShouldBeTrue();
        (await server.PostAsync("api/v3/vm/debian+debian")).ShouldBeJson(HttpStatusCode.OK);
        (await server.DeleteAsync("api/v3/vm/r1")).ShouldBeOkTrue();

        var queue = (await StatusAsync(server))["queue"]!;

        KeysOf(queue).ShouldBe(["requested", "pending", "cloning", "booting", "ready", "running", "completed", "total"]);
        queue["requested"]!.GetValue<int>().ShouldBe(0);
        queue["pending"]!.GetValue<int>().ShouldBe(2);
        queue["cloning"]!.GetValue<int>().ShouldBe(1);
        queue["booting"]!.GetValue<int>().ShouldBe(1);
        queue["ready"]!.GetValue<int>().ShouldBe(1);
        queue["running"]!.GetValue<int>().ShouldBe(1);
        queue["completed"]!.GetValue<int>().ShouldBe(1);
        queue["total"]!.GetValue<int>().ShouldBe(5);
    }

    [Fact]
    public async Task Status_BootAndClone_AreZeroWhenNothingWasRecorded()
    {
        await using var server = await StartAsync();

        var status = await StatusAsync(server);

        foreach (var section in new[] { "boot", "clone" })
        {
            KeysOf(status[section]).ShouldBe(["duration", "count"]);
            KeysOf(status[section]!["duration"]).ShouldBe(["average", "min", "max", "total"]);
            status[section]!["duration"]!.AsObject().Select(p => p.Value!.GetValue<double>()).ShouldAllBe(v => v == 0);
            status[section]!["count"]!.ToJsonString().ShouldBe("""{"total":0}""");
        }
    }

    [Fact]
    public async Task Status_Clone_SummarisesTodaysDurations()
    {
        await using var server = await StartAsync();
        var now = server.Time.GetUtcNow();
        await server.Inventory.RecordDurationAsync(DurationKind.Clone, "debian", "d1", 2.0, now, CancellationToken.None).DefaultTimeout();
        await server.Inventory.RecordDurationAsync(DurationKind.Clone, "debian", "d2", 4.5, now, CancellationToken.None).DefaultTimeout();
        await server.Inventory.RecordDurationAsync(DurationKind.Clone, "centos", "c1", 3.0, now, CancellationToken.None).DefaultTimeout();

        var clone = (await StatusAsync(server))["clone"]!;

        clone["count"]!["total"]!.GetValue<int>().ShouldBe(3);
        clone["duration"]!["total"]!.GetValue<double>().ShouldBe(9.5);
        clone["duration"]!["average"]!.GetValue<double>().ShouldBe(3.2);
        clone["duration"]!["min"]!.GetValue<double>().ShouldBe(2.0);
        clone["duration"]!["max"]!.GetValue<double>().ShouldBe(4.5);
    }

    [Fact]
    public async Task Status_TrailingSlash_IsAccepted()
    {
        await using var server = await StartAsync();

        var status = await StatusAsync(server, "/?view=capacity");

        KeysOf(status).ShouldBe(["capacity", "status"]);
    }

    // ---- GET /api/v3/poolstat -----------------------------------------------------------------------------------

    [Fact]
    public async Task PoolStat_NamesAndAliases_SelectsPoolsInConfigOrder()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("centos", "c1");

        var response = await server.GetAsync("api/v3/poolstat?pool=el,debian");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["pools"]);
        var pools = response.Object["pools"]!;
        KeysOf(pools).ShouldBe(["debian", "centos"]);
        KeysOf(pools["debian"]).ShouldBe(["max", "alias", "ready"]);
        pools["debian"]!.ToJsonString().ShouldBe("""{"max":3,"alias":["deb","linux"],"ready":0}""");
        pools["centos"]!.ToJsonString().ShouldBe("""{"max":2,"alias":"el","ready":1}""");
    }

    [Fact]
    public async Task PoolStat_OneOfSeveralAliases_SelectsThePool()
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/poolstat?pool=linux");

        response.ShouldBeJson(HttpStatusCode.OK);
        KeysOf(response.Object["pools"]).ShouldBe(["debian"]);
    }

    [Fact]
    public async Task PoolStat_PoolWithoutAlias_OmitsAlias()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("ubuntu", "u1");

        var response = await server.GetAsync("api/v3/poolstat?pool=ubuntu");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object["pools"]!["ubuntu"]!.ToJsonString().ShouldBe("""{"max":1,"ready":1}""");
    }

    [Theory]
    [InlineData("?pool=nosuchpool")]
    [InlineData("?pool=")]
    [InlineData("")]
    public async Task PoolStat_UnknownOrNoPool_ReturnsNoPools(string query)
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/poolstat" + query);

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object.ToJsonString().ShouldBe("""{"pools":{}}""");
    }

    // ---- GET /api/v3/totalrunning -------------------------------------------------------------------------------

    [Fact]
    public async Task TotalRunning_NothingCheckedOut_ReturnsZero()
    {
        await using var server = await StartAsync();
        await SeedEveryPoolAsync(server);

        var response = await server.GetAsync("api/v3/totalrunning");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object.ToJsonString().ShouldBe("""{"running":0}""");
    }

    [Fact]
    public async Task TotalRunning_CheckoutsAcrossPools_CountsEveryRunningVm()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1", "d2", "d3");
        await server.SeedReadyAsync("centos", "c1");
        (await server.PostAsync("api/v3/vm", """{"debian": 2, "centos": 1}""")).ShouldBeJson(HttpStatusCode.OK);

        var response = await server.GetAsync("api/v3/totalrunning");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object.ToJsonString().ShouldBe("""{"running":3}""");
    }
}
