using System.Globalization;
using System.Net;
using VmPooler.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using static VmPooler.IntegrationTests.Fixtures.AuthTestSupport;

namespace VmPooler.IntegrationTests.Auth;

/// <summary>POST /token over HTTP with <c>provider: ldap</c> against a real slapd (issue 4: LDAP end to end).</summary>
public class LdapTokenRoutesTests(SlapdFixture slapd, ITestOutputHelper output) : IClassFixture<SlapdFixture>
{
    private Task<VmPoolerServer> StartAsync()
        => VmPoolerServer.StartAsync(
            TestConfigs.ApiPools.TrimEnd('\n') + string.Create(CultureInfo.InvariantCulture, $"""

                :auth:
                  provider: 'ldap'
                  :ldap:
                    host: '127.0.0.1'
                    port: {slapd.Server.Port}
                    base: '{SlapdServer.People}'
                    user_object: 'uid'
                    timeout: 5
                """),
            VmPoolerRole.Api,
            output: output);

    [Fact]
    public async Task PostToken_LdapCredentials_GoodPasswordGivesATokenOthersAre401()
    {
        await using var server = await StartAsync();

        var good = await server.RequestAsync(HttpMethod.Post, "api/v3/token", Basic("alice", "alice-pw"));
        good.ShouldBeJson(HttpStatusCode.OK);
        var token = good.Object["token"]!.GetValue<string>();
        token.ShouldMatch(TokenShape().ToString());
        (await server.GetAsync("api/v3/token/" + token)).ShouldBeJson(HttpStatusCode.OK).Object[token]!["user"]!.GetValue<string>().ShouldBe("alice");

        (await server.RequestAsync(HttpMethod.Post, "api/v3/token", Basic("alice", "wrong"))).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Post, "api/v3/token", Basic("mallory", "alice-pw"))).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Post, "api/v3/token", Basic("*)(uid=*", "alice-pw"))).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Post, "api/v3/token", Basic("*", "x"))).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Post, "api/v3/token", Basic("alice)(|(uid=*", "alice-pw"))).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Post, "api/v3/token", Basic("alice,ou=people", "alice-pw"))).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Post, "api/v3/token", Basic("alice", ""))).ShouldBeUnauthorized();

        var list = await server.RequestAsync(HttpMethod.Get, "api/v1/token", Basic("alice", "alice-pw"));
        list.ShouldBeJson(HttpStatusCode.OK);
        list.Keys.ShouldBe(["ok", $"{token[..4]}...{token[^4..]}"]);
        (await server.RequestAsync(HttpMethod.Delete, "token/" + token, Basic("alice", "alice-pw"))).ShouldBeOkTrue();
    }
}
