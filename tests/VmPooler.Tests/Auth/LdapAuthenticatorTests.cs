using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Api.Auth;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Auth;

/// <summary>
/// What the LDAP authenticator decides without a directory. A loopback listener stands in for the server, so a test
/// can tell whether anything was sent at all. The real binds run against slapd in the integration tests.
/// </summary>
public sealed class LdapAuthenticatorTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public LdapAuthenticatorTests() => _listener.Start();

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Dispose() => _listener.Dispose();

    private LdapAuthenticator Create(int port, double timeoutSeconds = 10) => new(
        new LdapSettings { Host = "127.0.0.1", Port = port, Bases = ["dc=example,dc=com"], UserObjects = ["uid"], Timeout = TimeSpan.FromSeconds(timeoutSeconds) },
        NullLogger<LdapAuthenticator>.Instance,
        TimeProvider.System);

    [Theory]
    [InlineData("*")]
    [InlineData(")(uid=*")]
    [InlineData("admin)(|(uid=*")]
    [InlineData("uid=admin,dc=example,dc=com")]
    [InlineData("a\\2a")]
    [InlineData("admin\0")]
    [InlineData(" admin")]
    [InlineData("")]
    public async Task AuthenticateAsync_HostileUserName_DeniedWithoutConnecting(string username)
    {
        var result = await Create(Port).AuthenticateAsync(username, "password", CancellationToken.None).DefaultTimeout();

        result.ShouldBe(AuthResult.Denied);
        _listener.Pending().ShouldBeFalse();
    }

    [Fact]
    public async Task AuthenticateAsync_OverlongUserName_DeniedWithoutConnecting()
    {
        var result = await Create(Port).AuthenticateAsync(new string('a', 257), "password", CancellationToken.None).DefaultTimeout();

        result.ShouldBe(AuthResult.Denied);
        _listener.Pending().ShouldBeFalse();
    }

    [Fact]
    public async Task AuthenticateAsync_EmptyPassword_DeniedWithoutConnecting()
    {
        var result = await Create(Port).AuthenticateAsync("alice", "", CancellationToken.None).DefaultTimeout();

        result.ShouldBe(AuthResult.Denied);
        _listener.Pending().ShouldBeFalse();
    }

    [Fact]
    public async Task AuthenticateAsync_NothingListening_Unavailable()
    {
        var port = Port;
        _listener.Stop();

        var result = await Create(port).AuthenticateAsync("alice", "password", CancellationToken.None).DefaultTimeout();

        result.ShouldBe(AuthResult.Unavailable);
    }

    [Fact]
    public async Task AuthenticateAsync_ServerNeverAnswers_UnavailableAfterTimeout()
    {
        // The listener accepts (the kernel completes the handshake) but never reads or answers a bind.
        var started = TimeProvider.System.GetTimestamp();

        var result = await Create(Port, timeoutSeconds: 1).AuthenticateAsync("alice", "password", CancellationToken.None).DefaultTimeout();

        result.ShouldBe(AuthResult.Unavailable);
        TimeProvider.System.GetElapsedTime(started).ShouldBeLessThan(TimeSpan.FromSeconds(5));
    }
}
