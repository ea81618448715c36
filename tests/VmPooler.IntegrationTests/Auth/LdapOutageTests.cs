using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Api.Auth;
using VmPooler.Core.Configuration;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Auth;

/// <summary>The directory going away: its own slapd, since it is stopped mid-test.</summary>
public class LdapOutageTests
{
    private static IAuthenticator Create(int port, bool serviceAccount)
    {
        var ldap = new Dictionary<string, object?>
        {
            ["host"] = "127.0.0.1",
            ["port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["base"] = SlapdServer.People + " " + SlapdServer.Staff,
            ["user_object"] = "uid cn",
            ["timeout"] = "5",
        };
        if (serviceAccount)
        {
            ldap["service_account_hash"] = new Dictionary<string, object?> { ["user_dn"] = SlapdServer.ServiceDn, ["password"] = SlapdServer.ServicePassword };
        }

        return Authenticators.Create(
            new AuthOptions { Provider = "ldap", Settings = new Dictionary<string, object?> { ["ldap"] = ldap } }, NullLoggerFactory.Instance, TimeProvider.System);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AuthenticateAsync_ServerStopped_UnavailableThenAcceptedAfterRestart(bool serviceAccount)
    {
        await using var server = await SlapdServer.StartNewAsync();
        var authenticator = Create(server.Port, serviceAccount);
        (await authenticator.AuthenticateAsync("alice", "alice-pw", CancellationToken.None).DefaultTimeout()).ShouldBe(AuthResult.Accepted);

        await server.StopAsync();
        var started = TimeProvider.System.GetTimestamp();
        var whileDown = await authenticator.AuthenticateAsync("alice", "alice-pw", CancellationToken.None).DefaultTimeout();
        var elapsed = TimeProvider.System.GetElapsedTime(started);

        await server.StartAsync();
        var afterRestart = await authenticator.AuthenticateAsync("alice", "alice-pw", CancellationToken.None).DefaultTimeout();

        whileDown.ShouldBe(AuthResult.Unavailable);
        elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), "a refused connection is answered at once, not after the timeout");
        afterRestart.ShouldBe(AuthResult.Accepted);
    }
}
