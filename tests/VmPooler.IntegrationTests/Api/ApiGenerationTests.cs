using System.Net;
using VmPooler.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using static VmPooler.IntegrationTests.Fixtures.AuthTestSupport;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// The older API generations (spec §2.10): <c>/api/v1</c> and the un-versioned routes answer with short hostnames and a
/// top-level <c>domain</c>, and <c>GET /vm/&lt;host&gt;</c> there reports <c>domain</c> instead of <c>fqdn</c>;
/// <c>/api/v2</c> answers like v3 with FQDNs. Only the listed un-versioned routes exist.
/// </summary>
public class ApiGenerationTests(ITestOutputHelper output)
{
    private Task<VmPoolerServer> StartAsync() => VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api, output: output);

    private static string Prefixed(string prefix, string path) => AuthTestSupport.Route(prefix, path);

    // ---- checkout ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("api/v1")]
    [InlineData("")]
    public async Task Checkout_V1AndUnversioned_ShortNamesAndTopLevelDomain(string prefix)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1", "d2");
        await server.SeedReadyAsync("centos", "c1");

        var path = await server.PostAsync(Prefixed(prefix, "vm/debian"));
        var body = await server.PostAsync(Prefixed(prefix, "vm"), """{"debian": 1, "el": 1}""");

        path.ShouldBeJson(HttpStatusCode.OK);
        path.Json.Compact().ShouldBe("""{"ok":true,"debian":{"hostname":"d1"},"domain":"example.com"}""");
        body.ShouldBeJson(HttpStatusCode.OK);
        body.Json.Compact().ShouldBe("""{"ok":true,"debian":{"hostname":"d2"},"el":{"hostname":"c1"},"domain":"example.com"}""");
    }

    [Theory]
    [InlineData("api/v1")]
    [InlineData("")]
    public async Task Checkout_V1AndUnversionedPoolWithoutDomain_NoDomainKey(string prefix)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("ubuntu", "u1");

        var response = await server.PostAsync(Prefixed(prefix, "vm/ubuntu"));

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Json.Compact().ShouldBe("""{"ok":true,"ubuntu":{"hostname":"u1"}}""");
    }

    [Theory]
    [InlineData("api/v2")]
    [InlineData("api/v3")]
    public async Task Checkout_V2AndV3_FqdnsAndNoDomainKey(string prefix)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1", "d2");
        await server.SeedReadyAsync("ubuntu", "u1");

        var path = await server.PostAsync(Prefixed(prefix, "vm/debian+ubuntu"));
        var body = await server.PostAsync(Prefixed(prefix, "vm"), """{"deb": "1"}""");

        path.ShouldBeJson(HttpStatusCode.OK);
        path.Json.Compact().ShouldBe("""{"ok":true,"debian":{"hostname":"d1.example.com"},"ubuntu":{"hostname":"u1"}}""");
        body.ShouldBeJson(HttpStatusCode.OK);
        body.Json.Compact().ShouldBe("""{"ok":true,"deb":{"hostname":"d2.example.com"}}""");
    }

    // ---- GET /vm/<host> ---------------------------------------------------------------------------------------

    [Theory]
    [InlineData("api/v1")]
    [InlineData("")]
    public async Task GetVm_V1AndUnversioned_DomainInsteadOfFqdn(string prefix)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var response = await server.GetAsync(Prefixed(prefix, "vm/d1.example.com"));

        response.ShouldBeJson(HttpStatusCode.OK);
        var details = response.Object["d1"]!.AsObject();
        details.ContainsKey("fqdn").ShouldBeFalse(details.Compact());
        details["domain"]!.GetValue<string>().ShouldBe("example.com");
    }

    [Theory]
    [InlineData("api/v2")]
    [InlineData("api/v3")]
    public async Task GetVm_V2AndV3_FqdnNotDomain(string prefix)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var response = await server.GetAsync(Prefixed(prefix, "vm/d1"));

        response.ShouldBeJson(HttpStatusCode.OK);
        var details = response.Object["d1"]!.AsObject();
        details.ContainsKey("domain").ShouldBeFalse(details.Compact());
        details["fqdn"]!.GetValue<string>().ShouldBe("d1.example.com");
    }

    [Theory]
    [InlineData("api/v1")]
    [InlineData("api/v2")]
    [InlineData("")]
    public async Task PutAndDelete_OlderGenerations_SameHandlers(string prefix)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        (await server.PostAsync(Prefixed(prefix, "vm/debian"))).ShouldBeJson(HttpStatusCode.OK);

        (await server.PutAsync(Prefixed(prefix, "vm/d1"), """{"lifetime": 3}""")).ShouldBeOkTrue();
        (await server.GetAsync(Prefixed(prefix, "vm/d1"))).Object["d1"]!["lifetime"]!.Compact().ShouldBe("3");
        (await server.DeleteAsync(Prefixed(prefix, "vm/d1"))).ShouldBeOkTrue();
        (await server.DeleteAsync(Prefixed(prefix, "vm/d1"))).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task GetVmList_Unversioned_ListsPools()
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("vm");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Json.Compact().ShouldBe("""["debian","centos","ubuntu","spare"]""");
    }

    // ---- un-versioned -----------------------------------------------------------------------------------------

    [Theory]
    [InlineData("PUT")]
    [InlineData("POST")]
    public async Task UnversionedDisk_Returns404(string method)
    {
        // Spec §2.10: the un-versioned disk shim was a PUT re-dispatched to a POST-only v1 route, so it always 404'd.
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        (await server.PostAsync("vm/debian")).ShouldBeJson(HttpStatusCode.OK);

        (await server.SendAsync(new HttpMethod(method), "vm/d1/disk/8")).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UnversionedSnapshot_IsServed()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        (await server.PostAsync("vm/debian")).ShouldBeJson(HttpStatusCode.OK);

        var response = await server.PostAsync("vm/d1/snapshot");

        response.ShouldBeJson(HttpStatusCode.Accepted);
        response.Keys.ShouldBe(["ok", "d1"]);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("status?view=pools")]
    [InlineData("summary")]
    [InlineData("summary/boot")]
    [InlineData("summary/boot/duration")]
    public async Task UnversionedStatusAndSummary_Work(string path)
    {
        await using var server = await StartAsync();

        var unversioned = await server.GetAsync(path);
        var v3 = await server.GetAsync("api/v3/" + path);

        unversioned.ShouldBeJson(HttpStatusCode.OK);
        v3.ShouldBeJson(HttpStatusCode.OK);
        unversioned.Keys.ShouldBe(v3.Keys);
    }

    [Theory]
    [InlineData("GET", "poolstat")]
    [InlineData("GET", "poolstat?pool=debian")]
    [InlineData("GET", "totalrunning")]
    [InlineData("POST", "ondemandvm")]
    [InlineData("POST", "ondemandvm/debian")]
    [InlineData("GET", "ondemandvm/abc")]
    [InlineData("GET", "config")]
    [InlineData("GET", "full_config")]
    [InlineData("POST", "config/poolsize")]
    [InlineData("POST", "poolreset")]
    [InlineData("GET", "api/v4/status")]
    public async Task UnversionedRoutesNotInTheList_Return404(string method, string path)
    {
        await using var server = await StartAsync();

        (await server.SendAsync(new HttpMethod(method), path, method == "POST" ? "{}" : null)).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("api/v1/poolstat?pool=debian")]
    [InlineData("api/v2/totalrunning")]
    [InlineData("api/v1/config")]
    public async Task VersionedStatisticsRoutes_ExistUnderV1AndV2(string path)
    {
        await using var server = await StartAsync();

        (await server.GetAsync(path)).ShouldBeJson(HttpStatusCode.OK);
    }
}
