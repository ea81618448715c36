using System.Net;
using VmPooler.IntegrationTests.Fixtures;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// What the server answers outside the happy paths (spec §2.1, §2.2, §2.9): the root redirect, unknown routes and
/// wrong methods as <c>404 {"ok": false}</c> (never a framework default such as 405) and optional trailing slashes (the
/// dashboard's own routes: Dashboard/DashboardRoutesTests). No test here changes state, so they share one server.
/// </summary>
public class RoutingTests(ApiServerFixture fixture) : IClassFixture<ApiServerFixture>
{
    private VmPoolerServer Server => fixture.Server;

    [Fact]
    public async Task GetRoot_Always_RedirectsToDashboard()
    {
        var response = await Server.GetAsync("/");

        response.Status.ShouldBe(HttpStatusCode.Found);
        response.Headers["Location"].ShouldBe("/dashboard/");
    }

    [Fact]
    public async Task GetDashboard_WithoutSlash_RedirectsToDashboardWithSlash()
    {
        var response = await Server.GetAsync("/dashboard");

        response.Status.ShouldBe(HttpStatusCode.Found);
        response.Headers["Location"].ShouldBe("/dashboard/");
    }

    [Fact]
    public async Task GetDashboard_WithSlash_DoesNotRedirectToItself()
    {
        var response = await Server.GetAsync("/dashboard/");

        // A 302 to /dashboard/ from /dashboard/ is a redirect loop for every browser.
        (response.Status == HttpStatusCode.Found && response.Headers.GetValueOrDefault("Location") == "/dashboard/")
            .ShouldBeFalse($"GET /dashboard/ answered {(int)response.Status} with Location {response.Headers.GetValueOrDefault("Location")}");
    }

    [Theory]
    [InlineData("api/v3/status")]
    [InlineData("api/v1/vm")]
    [InlineData("healthz")]
    [InlineData("dashboard/")]
    public async Task Head_OnAGetRoute_SameStatusAndHeadersAsGetWithoutBody(string path)
    {
        using var get = await Server.Client.GetAsync(path);
        using var head = await Server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        head.StatusCode.ShouldBe(HttpStatusCode.OK);
        head.Content.Headers.ContentType!.MediaType.ShouldBe(get.Content.Headers.ContentType!.MediaType);
        (await head.Content.ReadAsByteArrayAsync()).ShouldBeEmpty();
        (await get.Content.ReadAsByteArrayAsync()).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Head_OnAnUnknownRoute_404()
    {
        using var head = await Server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "api/v3/nosuchroute"));

        head.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("GET", "/nosuchroute")]
    [InlineData("POST", "/nosuchroute")]
    [InlineData("GET", "/api/v3/nosuchroute")]
    [InlineData("POST", "/api/v3/nosuchroute")]
    [InlineData("PUT", "/api/v3/nosuchroute")]
    [InlineData("DELETE", "/api/v3/nosuchroute")]
    [InlineData("PATCH", "/api/v3/nosuchroute")]
    [InlineData("GET", "/api/v3")]
    [InlineData("GET", "/api/v4/vm")]
    [InlineData("GET", "/api/v3/vm/a/b/c")]
    [InlineData("GET", "/api/v3/status/extra")]
    public async Task UnknownRoute_AnyMethod_Returns404OkFalse(string method, string path)
    {
        var response = await Server.SendAsync(new HttpMethod(method), path);

        response.ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("PATCH", "/api/v3/vm/x")]
    [InlineData("PATCH", "/api/v3/vm")]
    [InlineData("PUT", "/api/v3/vm")]
    [InlineData("DELETE", "/api/v3/vm")]
    [InlineData("DELETE", "/api/v3/status")]
    [InlineData("PUT", "/api/v3/status")]
    [InlineData("POST", "/api/v3/status")]
    [InlineData("POST", "/api/v3/poolstat")]
    [InlineData("DELETE", "/api/v3/totalrunning")]
    [InlineData("OPTIONS", "/api/v3/status")]
    [InlineData("GET", "/api/v3/vm/x/snapshot")]
    [InlineData("POST", "/")]
    public async Task KnownPath_WrongMethod_Returns404OkFalseNot405(string method, string path)
    {
        var response = await Server.SendAsync(new HttpMethod(method), path);

        response.ShouldBeOkFalse(HttpStatusCode.NotFound);
        response.Headers.ContainsKey("Allow").ShouldBeFalse();
    }

    [Fact]
    public async Task NotFound_Body_IsPrettyPrintedWithTwoSpaces()
    {
        var response = await Server.GetAsync("/api/v3/nosuchroute");

        response.Body.ShouldBe("{\n  \"ok\": false\n}");
    }

    [Theory]
    [InlineData("/api/v3/status/")]
    [InlineData("/api/v3/vm/")]
    [InlineData("/api/v3/totalrunning/")]
    [InlineData("/api/v3/poolstat/?pool=debian")]
    [InlineData("/api/v3/summary/")]
    [InlineData("/api/v3/summary/tag/")]
    [InlineData("/api/v3/summary/clone/count/")]
    [InlineData("/api/v3/config/")]
    [InlineData("/api/v3/full_config/")]
    public async Task KnownRoute_TrailingSlash_IsOptional(string path)
    {
        var withSlash = await Server.GetAsync(path);
        var without = await Server.GetAsync(path.Replace("/?", "?", StringComparison.Ordinal).TrimEnd('/'));

        withSlash.ShouldBeJson(HttpStatusCode.OK);
        without.ShouldBeJson(HttpStatusCode.OK);
        withSlash.Json.GetValueKind().ShouldBe(without.Json.GetValueKind());
        if (withSlash.Json is System.Text.Json.Nodes.JsonObject)
        {
            withSlash.Keys.ShouldBe(without.Keys);
        }
        else
        {
            withSlash.Body.ShouldBe(without.Body);
        }
    }

    [Fact]
    public async Task GetVmHost_TrailingSlash_IsOptional()
    {
        (await Server.GetAsync("/api/v3/vm/nosuchvm/")).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await Server.GetAsync("/api/v3/vm/bad_host!/")).ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Invalid hostname format");
    }

    [Theory]
    [InlineData("GET", "/api/v3/vm")]
    [InlineData("GET", "/api/v3/status")]
    [InlineData("GET", "/api/v3/poolstat?pool=debian")]
    [InlineData("GET", "/api/v3/totalrunning")]
    [InlineData("GET", "/api/v3/vm/nosuchvm")]
    [InlineData("GET", "/api/v3/vm/bad_host!")]
    [InlineData("POST", "/api/v3/vm")]
    [InlineData("POST", "/api/v3/vm/nosuchpool")]
    [InlineData("POST", "/api/v3/vm/debian")]
    [InlineData("PUT", "/api/v3/vm/nosuchvm")]
    [InlineData("DELETE", "/api/v3/vm/nosuchvm")]
    [InlineData("GET", "/api/v3/nosuchroute")]
    [InlineData("GET", "/api/v3/summary")]
    [InlineData("GET", "/api/v3/summary/boot/duration")]
    [InlineData("GET", "/api/v3/summary?from=bogus")]
    [InlineData("GET", "/api/v3/config")]
    [InlineData("GET", "/api/v3/full_config")]
    public async Task ApiAnswer_AnyRoute_IsLabelledExactlyApplicationJson(string method, string path)
    {
        var response = await Server.SendAsync(new HttpMethod(method), path);

        response.ContentType.ShouldBe("application/json");
        response.Headers["Content-Type"].ShouldBe("application/json");
        _ = response.Json;
    }
}
