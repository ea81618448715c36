using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;
using static VmPooler.IntegrationTests.Fixtures.AuthTestSupport;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// The <c>/token</c> routes over real HTTP with dummy authentication (spec §2.5, §7), on every API generation that has
/// them: <c>/api/v3</c>, <c>/api/v2</c>, <c>/api/v1</c> and the un-versioned <c>/token</c>. Each test starts its own
/// API server (no manager) from <see cref="TestConfigs.ApiPools"/> plus <c>:auth: provider: dummy</c>.
/// </summary>
public class TokenRoutesTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private Task<VmPoolerServer> StartAsync(FakeTimeProvider? clock = null)
        => StartApiAsync(
            WithDummyAuth(TestConfigs.ApiPools),
            output,
            clock is null ? null : services => services.AddSingleton<TimeProvider>(clock));

    // ---- POST /token ------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task PostToken_GoodBasicAuth_Returns200WithNewTokenOfTheOriginalShape(string prefix)
    {
        await using var server = await StartAsync();

        var response = await server.RequestAsync(HttpMethod.Post, Route(prefix, "token"), Basic());

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", "token"]);
        response.Object["ok"]!.GetValue<bool>().ShouldBeTrue();
        response.Object["token"]!.GetValue<string>().ShouldMatch(TokenShape().ToString());
    }

    [Fact]
    public async Task PostToken_Twice_GivesDifferentTokens()
    {
        await using var server = await StartAsync();

        var first = await server.CreateTokenAsync();
        var second = await server.CreateTokenAsync();

        first.ShouldNotBe(second);
    }

    /// <summary>Authorization headers that must all be refused: missing, not base64, no colon, user == password, other schemes.</summary>
    public static TheoryData<string, string?> BadAuthorizations()
    {
        var data = new TheoryData<string, string?>();
        foreach (var prefix in Prefixes)
        {
            data.Add(prefix, null);
            data.Add(prefix, "Basic !!!not-base64!!!");
            data.Add(prefix, BasicRaw("admin-without-colon"));
            data.Add(prefix, Basic("admin", "admin"));
        }

        data.Add("api/v3", "Basic ");
        data.Add("api/v3", "Bearer " + Convert.ToBase64String("admin:s3cr3t"u8.ToArray()));
        data.Add("api/v3", BasicRaw(":s3cr3t"));
        data.Add("api/v3", "garbage");
        return data;
    }

    [Theory]
    [MemberData(nameof(BadAuthorizations))]
    public async Task PostToken_MissingOrBadBasicAuth_Returns401WithChallenge(string prefix, string? authorization)
    {
        await using var server = await StartAsync();

        var response = await server.RequestAsync(HttpMethod.Post, Route(prefix, "token"), authorization);

        response.ShouldBeUnauthorized();
    }

    [Theory]
    [MemberData(nameof(BadAuthorizations))]
    public async Task GetTokens_MissingOrBadBasicAuth_Returns401WithChallenge(string prefix, string? authorization)
    {
        await using var server = await StartAsync();
        await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Get, Route(prefix, "token"), authorization)).ShouldBeUnauthorized();
    }

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task DeleteToken_MissingOrBadBasicAuth_Returns401AndTheTokenStillWorks(string prefix)
    {
        await using var server = await StartAsync();
        var token = await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Delete, Route(prefix, "token/" + token))).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Delete, Route(prefix, "token/" + token), Basic("admin", "admin"))).ShouldBeUnauthorized();

        (await server.GetAsync(Route(prefix, "token/" + token))).ShouldBeJson(HttpStatusCode.OK);
    }

    // ---- GET /token -------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task GetTokens_ListsOnlyTheUsersTokensByHintWithCreatedAndLast(string prefix)
    {
        var clock = new FakeTimeProvider(Start);
        await using var server = await StartAsync(clock);
        var first = await server.CreateTokenAsync();
        clock.Advance(TimeSpan.FromMinutes(1));
        var second = await server.CreateTokenAsync();
        var others = await server.CreateTokenAsync("someone-else", "pw");

        var response = await server.RequestAsync(HttpMethod.Get, Route(prefix, "token"), Basic());

        response.ShouldBeJson(HttpStatusCode.OK);
        var firstHint = $"{first[..4]}...{first[^4..]}";
        var secondHint = $"{second[..4]}...{second[^4..]}";
        response.Keys.ShouldBe(["ok", firstHint, secondHint], "the user's tokens, oldest first, by hint only");
        response.Object["ok"]!.GetValue<bool>().ShouldBeTrue();
        response.Object[firstHint]!.Compact().ShouldBe("""{"created":"2026-01-01 12:00:00 +0000","last":"never"}""");
        response.Object[secondHint]!.Compact().ShouldBe("""{"created":"2026-01-01 12:01:00 +0000","last":"never"}""");
        response.Body.ShouldNotContain(first);
        response.Body.ShouldNotContain(second);
        response.Body.ShouldNotContain(others[..4] + "..." + others[^4..]);
    }

    [Fact]
    public async Task GetTokens_AfterTheTokenIsUsed_ShowsLast()
    {
        var clock = new FakeTimeProvider(Start);
        await using var server = await StartAsync(clock);
        await server.SeedReadyAsync("debian", "d1");
        var token = await server.CreateTokenAsync();
        clock.Advance(TimeSpan.FromMinutes(5));

        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/debian", token: token)).ShouldBeJson(HttpStatusCode.OK);

        var response = await server.RequestAsync(HttpMethod.Get, "api/v3/token", Basic());
        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object[$"{token[..4]}...{token[^4..]}"]!.Compact()
            .ShouldBe("""{"created":"2026-01-01 12:00:00 +0000","last":"2026-01-01 12:05:00 +0000"}""");
    }

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task GetTokens_UserWithoutTokens_Returns404(string prefix)
    {
        await using var server = await StartAsync();
        await server.CreateTokenAsync("someone-else", "pw");

        (await server.RequestAsync(HttpMethod.Get, Route(prefix, "token"), Basic())).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    // ---- GET /token/<t> ---------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task GetToken_NoAuthNeeded_ShowsUserAndCreatedButNoLastBeforeUse(string prefix)
    {
        var clock = new FakeTimeProvider(Start);
        await using var server = await StartAsync(clock);
        var token = await server.CreateTokenAsync();

        var response = await server.GetAsync(Route(prefix, "token/" + token));

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", token]);
        response.Object["ok"]!.GetValue<bool>().ShouldBeTrue();
        response.Object[token]!.Compact().ShouldBe("""{"user":"admin","created":"2026-01-01 12:00:00 +0000"}""");
        response.Body.ShouldContain("\"created\": \"2026-01-01 12:00:00 +0000\"", Case.Sensitive, "the original writes '+' unescaped");
    }

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task GetToken_AfterCheckoutWithIt_ShowsLastAndRunningVmUntilTheVmIsReturned(string prefix)
    {
        var clock = new FakeTimeProvider(Start);
        await using var server = await StartAsync(clock);
        await server.SeedReadyAsync("debian", "d1", "d2");
        var token = await server.CreateTokenAsync();
        clock.Advance(TimeSpan.FromMinutes(2));
        (await server.RequestAsync(HttpMethod.Post, Route(prefix, "vm/debian"), token: token)).ShouldBeJson(HttpStatusCode.OK);
        (await server.PostAsync(Route(prefix, "vm/debian"))).ShouldBeJson(HttpStatusCode.OK); // d2, without the token

        var details = (await server.GetAsync(Route(prefix, "token/" + token))).ShouldBeJson(HttpStatusCode.OK).Object[token]!;

        details.Compact().ShouldBe(
            """{"user":"admin","created":"2026-01-01 12:00:00 +0000","last":"2026-01-01 12:02:00 +0000","vms":{"running":["d1"]}}""");

        (await server.RequestAsync(HttpMethod.Delete, Route(prefix, "vm/d1"), token: token)).ShouldBeOkTrue();
        var after = (await server.GetAsync(Route(prefix, "token/" + token))).ShouldBeJson(HttpStatusCode.OK).Object[token]!.AsObject();
        after.ContainsKey("vms").ShouldBeFalse($"a returned VM is no longer listed: {after.Compact()}");
        after["user"]!.GetValue<string>().ShouldBe("admin");
    }

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task GetToken_Unknown_Returns404(string prefix)
    {
        await using var server = await StartAsync();
        await server.CreateTokenAsync();

        (await server.GetAsync(Route(prefix, "token/abcdefghijklmnopqrstuvwxyz012345"))).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.GetAsync(Route(prefix, "token/not-a-token"))).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    // ---- DELETE /token/<t> ------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task DeleteToken_Known_Returns200AndTheTokenStopsWorkingAtOnce(string prefix)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        var token = await server.CreateTokenAsync();
        var kept = await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Delete, Route(prefix, "token/" + token), Basic())).ShouldBeOkTrue();

        (await server.RequestAsync(HttpMethod.Post, Route(prefix, "vm/debian"), token: token)).ShouldBeUnauthorized();
        (await server.StateOfAsync("d1")).ShouldBe(VmState.Ready, "a checkout refused for its token takes nothing");
        (await server.GetAsync(Route(prefix, "token/" + token))).ShouldBeOkFalse(HttpStatusCode.NotFound);
        var list = await server.RequestAsync(HttpMethod.Get, Route(prefix, "token"), Basic());
        list.ShouldBeJson(HttpStatusCode.OK);
        list.Keys.ShouldBe(["ok", $"{kept[..4]}...{kept[^4..]}"]);
        (await server.RequestAsync(HttpMethod.Post, Route(prefix, "vm/debian"), token: kept)).ShouldBeJson(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeleteToken_OfAnotherUser_Returns200ByDefault()
    {
        // Spec §7.4: any Basic-authenticated user may delete any token (owner_only is off by default).
        await using var server = await StartAsync();
        var token = await server.CreateTokenAsync("someone-else", "pw");

        (await server.RequestAsync(HttpMethod.Delete, "api/v3/token/" + token, Basic())).ShouldBeOkTrue();

        (await server.GetAsync("api/v3/token/" + token)).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteToken_OfAnotherUserWithOwnerOnly_Returns403AndTheTokenStillWorks()
    {
        await using var server = await StartApiAsync(WithDummyAuth(TestConfigs.ApiPoolsWithConfig("  owner_only: true")), output);
        var token = await server.CreateTokenAsync("someone-else", "pw");

        (await server.RequestAsync(HttpMethod.Delete, "api/v3/token/" + token, Basic())).ShouldBeError(HttpStatusCode.Forbidden);

        (await server.GetAsync("api/v3/token/" + token)).ShouldBeJson(HttpStatusCode.OK);
        (await server.RequestAsync(HttpMethod.Delete, "api/v3/token/" + token, Basic("someone-else", "pw"))).ShouldBeOkTrue();
    }

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task DeleteToken_Unknown_Returns401(string prefix)
    {
        // Spec §2.5: the original answers 401 for a token that does not exist (its tests carry a TODO for 404).
        await using var server = await StartAsync();

        (await server.RequestAsync(HttpMethod.Delete, Route(prefix, "token/abcdefghijklmnopqrstuvwxyz012345"), Basic()))
            .ShouldBeOkFalse(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task DeleteToken_Twice_SecondReturns401()
    {
        await using var server = await StartAsync();
        var token = await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Delete, "api/v3/token/" + token, Basic())).ShouldBeOkTrue();
        (await server.RequestAsync(HttpMethod.Delete, "api/v3/token/" + token, Basic())).ShouldBeOkFalse(HttpStatusCode.Unauthorized);
    }

    // ---- without :auth: ---------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Generations), MemberType = typeof(AuthTestSupport))]
    public async Task TokenRoutes_WithoutAuthSection_Return404(string prefix)
    {
        await using var server = await StartApiAsync(TestConfigs.ApiPools, output);
        const string token = "abcdefghijklmnopqrstuvwxyz012345";

        (await server.RequestAsync(HttpMethod.Post, Route(prefix, "token"), Basic())).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.RequestAsync(HttpMethod.Get, Route(prefix, "token"), Basic())).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.RequestAsync(HttpMethod.Get, Route(prefix, "token/" + token))).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.RequestAsync(HttpMethod.Delete, Route(prefix, "token/" + token), Basic())).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.RequestAsync(HttpMethod.Post, Route(prefix, "token"))).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }
}
