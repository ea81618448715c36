using System.Net;
using System.Text.Json.Nodes;
using VmPooler.Core.OnDemand;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// The <c>/api/v3/ondemandvm</c> routes over real HTTP, API only (no manager, so a request stays as the API stored it)
/// (spec §2.6). Every test uses its own request ids, so they share one server per class.
/// </summary>
public class OnDemandRoutesTests(ApiServerFixture fixture, ITestOutputHelper output) : IClassFixture<ApiServerFixture>
{
    private VmPoolerServer Server => fixture.Server;

    private IOnDemandStore Store => Server.App.Services.GetRequiredService<IOnDemandStore>();

    private static string NewId() => "req-" + Guid.NewGuid().ToString("N")[..12];

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    private async Task<OnDemandRequest> StoredAsync(string id)
        => (await Store.GetAsync(id, CancellationToken.None).DefaultTimeout()).ShouldNotBeNull($"request {id} is stored");

    // ---- POST /ondemandvm ----------------------------------------------------------------------------------------

    [Fact]
    public async Task Post_WithoutRequestId_Answers201WithAGeneratedUuid()
    {
        var response = await Server.PostAsync("api/v3/ondemandvm", """{"debian": 2}""");

        response.ShouldBeJson(HttpStatusCode.Created);
        response.Keys.ShouldBe(["ok", "request_id"]);
        response.Object["ok"]!.GetValue<bool>().ShouldBeTrue();
        var id = response.Object["request_id"]!.GetValue<string>();
        Guid.TryParseExact(id, "D", out _).ShouldBeTrue($"'{id}' is a UUID");
        var stored = await StoredAsync(id);
        stored.Status.ShouldBe(OnDemandStatus.Pending);
        stored.Entries.ShouldBe([new OnDemandEntry("debian", "debian", 2)]);
    }

    [Fact]
    public async Task Post_WithRequestId_Answers201WithThatIdAndKeepsEveryPool()
    {
        var id = NewId();

        var response = await Server.PostAsync("api/v3/ondemandvm", $$"""{"debian": 1, "centos": "2", "request_id": "{{id}}"}""");

        response.ShouldBeJson(HttpStatusCode.Created);
        response.Json.ToJsonString().ShouldBe(Compact($$"""{"ok": true, "request_id": "{{id}}"}"""));
        (await StoredAsync(id)).Entries.ShouldBe([new OnDemandEntry("debian", "debian", 1), new OnDemandEntry("centos", "centos", 2)]);
    }

    [Fact]
    public async Task Post_DuplicateRequestId_Answers409WithTheExactBody()
    {
        var id = NewId();
        (await Server.PostAsync("api/v3/ondemandvm", $$"""{"debian": 1, "request_id": "{{id}}"}""")).ShouldBeJson(HttpStatusCode.Created);

        var response = await Server.PostAsync("api/v3/ondemandvm", $$"""{"ubuntu": 1, "request_id": "{{id}}"}""");

        response.ShouldBeJson(HttpStatusCode.Conflict);
        response.Body.ShouldBe($"{{\n  \"ok\": false,\n  \"request_id\": \"{id}\",\n  \"message\": \"request_id '{id}' has already been created\"\n}}");
        (await StoredAsync(id)).Entries.ShouldBe([new OnDemandEntry("debian", "debian", 1)], "the first request is left as it was");
    }

    [Fact]
    public async Task Post_UnknownPool_Answers404WithBadTemplates()
    {
        var id = NewId();

        var response = await Server.PostAsync("api/v3/ondemandvm", $$"""{"debian": 1, "pool4": 1, "nope": 2, "request_id": "{{id}}"}""");

        response.ShouldBeJson(HttpStatusCode.NotFound);
        response.Json.ToJsonString().ShouldBe(Compact("""{"ok": false, "bad_templates": ["pool4", "nope"]}"""));
        (await Store.GetAsync(id, CancellationToken.None).DefaultTimeout()).ShouldBeNull("nothing is stored for a rejected request");
    }

    [Fact]
    public async Task Post_UnknownPoolAndTooMany_UnknownPoolIsReportedFirst()
    {
        var response = await Server.PostAsync("api/v3/ondemandvm", """{"debian": 500, "pool4": 1}""");

        response.ShouldBeJson(HttpStatusCode.NotFound);
        response.Object["bad_templates"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["pool4"]);
    }

    [Theory]
    [InlineData("""{"debian": 11}""")]
    [InlineData("""{"debian": "11"}""")]
    [InlineData("""{"ubuntu": 1, "centos": 99}""")]
    public async Task Post_OverTheDefaultMaximum_Answers403WithTheExactMessage(string body)
    {
        var response = await Server.PostAsync("api/v3/ondemandvm", body);

        response.ShouldBeJson(HttpStatusCode.Forbidden);
        response.Body.ShouldBe("{\n  \"ok\": false,\n  \"message\": \"requested amount of instances exceeds the maximum 10\"\n}");
    }

    [Fact]
    public async Task Post_AtTheDefaultMaximum_IsAccepted()
        => (await Server.PostAsync("api/v3/ondemandvm", """{"debian": 10}""")).ShouldBeJson(HttpStatusCode.Created);

    [Fact]
    public async Task Post_OverAConfiguredMaximum_Answers403NamingThatMaximum()
    {
        await using var server = await VmPoolerServer.StartAsync(
            TestConfigs.ApiPoolsWithConfig("  max_ondemand_instances_per_request: 3"), VmPoolerRole.Api, output: output);

        (await server.PostAsync("api/v3/ondemandvm", """{"debian": 3}""")).ShouldBeJson(HttpStatusCode.Created);
        var response = await server.PostAsync("api/v3/ondemandvm", """{"debian": 4}""");

        response.ShouldBeJson(HttpStatusCode.Forbidden);
        response.Object["message"]!.GetValue<string>().ShouldBe("requested amount of instances exceeds the maximum 3");
        (await server.PostAsync("api/v3/ondemandvm/debian+debian+debian+debian")).ShouldBeJson(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("{\"debian\": 1")]
    [InlineData("not json")]
    [InlineData("{\"debian\": 1,}")]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Post_UnparsableOrEmptyBody_Answers400JsonPayloadCouldNotBeParsed(string body)
    {
        var response = await Server.PostAsync("api/v3/ondemandvm", body);

        response.ShouldBeJson(HttpStatusCode.BadRequest);
        response.Keys.Take(2).ShouldBe(["ok", "message"]);
        response.Object["ok"]!.GetValue<bool>().ShouldBeFalse();
        response.Object["message"]!.GetValue<string>().ShouldBe("JSON payload could not be parsed");
    }

    [Fact]
    public async Task Post_NoBodyAtAll_Answers400JsonPayloadCouldNotBeParsed()
    {
        var response = await Server.PostAsync("api/v3/ondemandvm");

        response.ShouldBeJson(HttpStatusCode.BadRequest);
        response.Object["message"]!.GetValue<string>().ShouldBe("JSON payload could not be parsed");
    }

    [Fact]
    public async Task Post_JsonNull_Answers404OkFalse()
        => (await Server.PostAsync("api/v3/ondemandvm", "null")).ShouldBeOkFalse(HttpStatusCode.NotFound);

    [Theory]
    [InlineData("\"has space\"")]
    [InlineData("\"semi;colon\"")]
    [InlineData("\"\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("\"../../etc\"")]
    public async Task Post_BadRequestId_Answers400(string requestId)
    {
        var response = await Server.PostAsync("api/v3/ondemandvm", $$"""{"debian": 1, "request_id": {{requestId}}}""");

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldContain("request_id");
    }

    [Fact]
    public async Task Post_OverlongRequestId_Answers400()
    {
        var response = await Server.PostAsync("api/v3/ondemandvm", $$"""{"debian": 1, "request_id": "{{new string('a', 101)}}"}""");

        response.ShouldBeError(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("\"two\"")]
    [InlineData("1.5")]
    [InlineData("true")]
    public async Task Post_CountThatIsNotAPositiveInteger_Answers400(string count)
        => (await Server.PostAsync("api/v3/ondemandvm", $$"""{"debian": {{count}}}""")).ShouldBeError(HttpStatusCode.BadRequest);

    [Fact]
    public async Task Post_OnlyARequestId_Answers400()
        => (await Server.PostAsync("api/v3/ondemandvm", """{"request_id": "lonely"}""")).ShouldBeError(HttpStatusCode.BadRequest);

    [Fact]
    public async Task Post_Aliases_ResolveToTheirPoolsUnderTheRequestedName()
    {
        var id = NewId();

        (await Server.PostAsync("api/v3/ondemandvm", $$"""{"el": 2, "deb": 1, "request_id": "{{id}}"}""")).ShouldBeJson(HttpStatusCode.Created);

        var stored = await StoredAsync(id);
        stored.Entries.ShouldBe([new OnDemandEntry("el", "centos", 2), new OnDemandEntry("deb", "debian", 1)]);
        var pending = (await Server.GetAsync($"api/v3/ondemandvm/{id}")).ShouldBeJson(HttpStatusCode.Accepted);
        pending.Json.ToJsonString().ShouldBe(Compact($$$"""
            {"ok": true, "request_id": "{{{id}}}", "ready": false, "el": {"ready": "0", "pending": "2"}, "deb": {"ready": "0", "pending": "1"} }
            """));
    }

    [Fact]
    public async Task Post_AliasOfSeveralPools_EveryInstanceGoesToOneOfThem()
    {
        var id = NewId();

        (await Server.PostAsync("api/v3/ondemandvm", $$"""{"linux": 5, "request_id": "{{id}}"}""")).ShouldBeJson(HttpStatusCode.Created);

        var stored = await StoredAsync(id);
        stored.Entries.Sum(e => e.Count).ShouldBe(5);
        stored.Entries.ShouldAllBe(e => e.Requested == "linux" && e.Pool == "debian");
    }

    // ---- POST /ondemandvm/<pool>[+<pool>] -----------------------------------------------------------------------

    [Fact]
    public async Task PostPath_PlusSeparatedPools_CountsRepeatsAndResolvesAliases()
    {
        var response = await Server.PostAsync("api/v3/ondemandvm/debian+el+debian");

        response.ShouldBeJson(HttpStatusCode.Created);
        var stored = await StoredAsync(response.Object["request_id"]!.GetValue<string>());
        stored.Entries.ShouldBe([new OnDemandEntry("debian", "debian", 2), new OnDemandEntry("el", "centos", 1)]);
    }

    [Fact]
    public async Task PostPath_UnknownPool_Answers404WithBadTemplates()
    {
        var response = await Server.PostAsync("api/v3/ondemandvm/debian+pool4");

        response.ShouldBeJson(HttpStatusCode.NotFound);
        response.Json.ToJsonString().ShouldBe(Compact("""{"ok": false, "bad_templates": ["pool4"]}"""));
    }

    [Fact]
    public async Task PostPath_ElevenOfOnePool_Answers403()
    {
        var response = await Server.PostAsync("api/v3/ondemandvm/" + string.Join('+', Enumerable.Repeat("ubuntu", 11)));

        response.ShouldBeJson(HttpStatusCode.Forbidden);
        response.Object["message"]!.GetValue<string>().ShouldBe("requested amount of instances exceeds the maximum 10");
    }

    // ---- GET / DELETE /ondemandvm/<id> --------------------------------------------------------------------------

    [Fact]
    public async Task Get_UnknownId_Answers404WithTheMessage()
    {
        var response = await Server.GetAsync("api/v3/ondemandvm/no-such-request");

        response.ShouldBeJson(HttpStatusCode.NotFound);
        response.Body.ShouldBe("{\n  \"ok\": false,\n  \"message\": \"no request found for request_id 'no-such-request'\"\n}");
    }

    [Fact]
    public async Task Delete_UnknownId_Answers404WithTheMessage()
    {
        var response = await Server.DeleteAsync("api/v3/ondemandvm/no-such-request");

        response.ShouldBeJson(HttpStatusCode.NotFound);
        response.Object["message"]!.GetValue<string>().ShouldBe("no request found for request_id 'no-such-request'");
    }

    [Fact]
    public async Task Get_PendingRequest_Answers202WithStringCounts()
    {
        var id = NewId();
        (await Server.PostAsync("api/v3/ondemandvm", $$"""{"debian": 2, "request_id": "{{id}}"}""")).ShouldBeJson(HttpStatusCode.Created);

        var response = await Server.GetAsync($"api/v3/ondemandvm/{id}");

        response.ShouldBeJson(HttpStatusCode.Accepted);
        response.Keys.ShouldBe(["ok", "request_id", "ready", "debian"]);
        response.Object["ready"]!.GetValue<bool>().ShouldBeFalse();
        response.Object["debian"]!["ready"]!.GetValue<string>().ShouldBe("0");
        response.Object["debian"]!["pending"]!.GetValue<string>().ShouldBe("2");
    }

    [Fact]
    public async Task Get_FailedRequest_Answers200WithTheTtlMessage()
    {
        var id = NewId();
        (await Server.PostAsync("api/v3/ondemandvm", $$"""{"debian": 1, "request_id": "{{id}}"}""")).ShouldBeJson(HttpStatusCode.Created);
        (await Store.SetStatusAsync(id, OnDemandStatus.Pending, OnDemandStatus.Failed, TimeSpan.FromHours(1), null, CancellationToken.None)).ShouldBeTrue();

        var response = await Server.GetAsync($"api/v3/ondemandvm/{id}");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Json.ToJsonString().ShouldBe(Compact($$"""
            {"ok": true, "request_id": "{{id}}", "ready": false,
             "message": "The request failed to provision instances within the configured ondemand_request_ttl '5'"}
            """));
    }

    [Fact]
    public async Task Get_ReadyRequest_Answers200WithFqdnsWhereThePoolHasADomain()
    {
        var id = NewId();
        (await Server.PostAsync("api/v3/ondemandvm", $$"""{"el": 2, "ubuntu": 1, "request_id": "{{id}}"}""")).ShouldBeJson(HttpStatusCode.Created);
        (await Store.DeliverAsync(id, new OnDemandEntry("el", "centos", 2), "vm-one", CancellationToken.None)).ShouldBeTrue();
        (await Store.DeliverAsync(id, new OnDemandEntry("el", "centos", 2), "vm-two", CancellationToken.None)).ShouldBeTrue();
        (await Store.DeliverAsync(id, new OnDemandEntry("ubuntu", "ubuntu", 1), "vm-three", CancellationToken.None)).ShouldBeTrue();
        (await Store.SetStatusAsync(id, OnDemandStatus.Pending, OnDemandStatus.Ready, TimeSpan.FromHours(1), null, CancellationToken.None)).ShouldBeTrue();

        var response = await Server.GetAsync($"api/v3/ondemandvm/{id}");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Json.ToJsonString().ShouldBe(Compact($$$"""
            {"ok": true, "request_id": "{{{id}}}", "ready": true,
             "el": {"hostname": ["vm-one.example.com", "vm-two.example.com"]}, "ubuntu": {"hostname": ["vm-three"]} }
            """));
    }

    [Fact]
    public async Task Delete_PendingRequest_DeletesOnceThenReportsAlreadyDeleted()
    {
        var id = NewId();
        (await Server.PostAsync("api/v3/ondemandvm", $$"""{"ubuntu": 1, "request_id": "{{id}}"}""")).ShouldBeJson(HttpStatusCode.Created);

        (await Server.DeleteAsync($"api/v3/ondemandvm/{id}")).ShouldBeOkTrue();
        var again = await Server.DeleteAsync($"api/v3/ondemandvm/{id}");
        var get = await Server.GetAsync($"api/v3/ondemandvm/{id}");

        again.ShouldBeJson(HttpStatusCode.OK);
        again.Body.ShouldBe("{\n  \"ok\": true,\n  \"message\": \"the request has already been deleted\"\n}");
        get.ShouldBeJson(HttpStatusCode.OK);
        get.Json.ToJsonString().ShouldBe(Compact($$"""{"ok": true, "request_id": "{{id}}", "ready": false, "message": "The request has been deleted"}"""));
        (await Server.PostAsync("api/v3/ondemandvm", $$"""{"ubuntu": 1, "request_id": "{{id}}"}""")).ShouldBeJson(HttpStatusCode.Conflict);
    }

    // ---- auth ---------------------------------------------------------------------------------------------------

    private const string WithDummyAuth = """
        ---
        :auth:
          provider: 'dummy'
        :pools:
          - name: 'debian'
            size: 1
        """;

    [Fact]
    public async Task Auth_PostAndDeleteNeedAToken_GetDoesNot()
    {
        await using var server = await DebugAuthServer.StartAsync(WithDummyAuth, output: output);
        var token = await server.TokenAsync();

        var noToken = await server.SendAsync(HttpMethod.Post, "api/v3/ondemandvm", """{"debian": 1}""");
        var badToken = await server.SendAsync(HttpMethod.Post, "api/v3/ondemandvm", """{"debian": 1}""", token: "not-a-token");
        var pathNoToken = await server.SendAsync(HttpMethod.Post, "api/v3/ondemandvm/debian");
        var created = await server.SendAsync(HttpMethod.Post, "api/v3/ondemandvm", """{"debian": 1, "request_id": "authed"}""", token);
        var get = await server.SendAsync(HttpMethod.Get, "api/v3/ondemandvm/authed");
        var deleteNoToken = await server.SendAsync(HttpMethod.Delete, "api/v3/ondemandvm/authed");
        var getAfter = await server.SendAsync(HttpMethod.Get, "api/v3/ondemandvm/authed");
        var delete = await server.SendAsync(HttpMethod.Delete, "api/v3/ondemandvm/authed", token: token);

        foreach (var denied in new[] { noToken, badToken, pathNoToken, deleteNoToken })
        {
            denied.ShouldBeOkFalse(HttpStatusCode.Unauthorized);
            denied.Headers["WWW-Authenticate"].ShouldBe("Basic realm=\"Authentication required\"");
        }

        created.ShouldBeJson(HttpStatusCode.Created);
        get.ShouldBeJson(HttpStatusCode.Accepted);
        getAfter.ShouldBeJson(HttpStatusCode.Accepted); // a DELETE without a token changes nothing
        delete.ShouldBeOkTrue();
    }

    [Fact]
    public async Task Auth_UnparsableBodyWithoutAToken_Answers401First()
    {
        await using var server = await DebugAuthServer.StartAsync(WithDummyAuth, output: output);

        (await server.SendAsync(HttpMethod.Post, "api/v3/ondemandvm", "{broken")).ShouldBeOkFalse(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Auth_RequestRecordsTheTokensUser()
    {
        await using var server = await DebugAuthServer.StartAsync(WithDummyAuth, output: output);
        var token = await server.TokenAsync("bob", "builder");

        (await server.SendAsync(HttpMethod.Post, "api/v3/ondemandvm", """{"debian": 1, "request_id": "bobs"}""", token)).ShouldBeJson(HttpStatusCode.Created);

        var stored = await server.App.Services.GetRequiredService<IOnDemandStore>().GetAsync("bobs", CancellationToken.None).DefaultTimeout();
        stored.ShouldNotBeNull().User.ShouldBe("bob");
        stored.TokenHash.ShouldNotBeNullOrEmpty();
        stored.TokenHash.ShouldNotBe(token, "the token is stored only as a hash");
    }
}
