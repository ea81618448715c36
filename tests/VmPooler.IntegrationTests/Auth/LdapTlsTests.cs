using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Api.Auth;
using VmPooler.Core.Configuration;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Auth;

/// <summary>One slapd serving LDAPS and StartTLS with a certificate for 127.0.0.1 signed by a CA made for the test.</summary>
public sealed class TlsSlapdFixture : IAsyncLifetime
{
    public SlapdServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await SlapdServer.StartNewAsync(tls: true);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// LDAP over TLS against a real slapd (<c>encryption: {method: simple_tls | start_tls, tls_options: {ca_file: …}}</c>):
/// the server's certificate is verified against the configured CA, and a certificate nobody vouches for makes the
/// directory unavailable (a 503 for the client), never a login.
/// </summary>
public class LdapTlsTests(TlsSlapdFixture slapd) : IClassFixture<TlsSlapdFixture>
{
    private LdapAuthenticatorScope Create(string method, int port, string? caFile, bool serviceAccount = false)
    {
        var encryption = new Dictionary<string, object?> { ["method"] = method };
        if (caFile is not null)
        {
            encryption["tls_options"] = new Dictionary<string, object?> { ["ca_file"] = caFile };
        }

        var ldap = new Dictionary<string, object?>
        {
            ["host"] = "127.0.0.1",
            ["port"] = port.ToString(CultureInfo.InvariantCulture),
            ["base"] = SlapdServer.People,
            ["user_object"] = "uid",
            ["timeout"] = "5",
            ["encryption"] = encryption,
        };
        if (serviceAccount)
        {
            ldap["service_account_hash"] = new Dictionary<string, object?> { ["user_dn"] = SlapdServer.ServiceDn, ["password"] = SlapdServer.ServicePassword };
        }

        var options = new AuthOptions { Provider = "ldap", Settings = new Dictionary<string, object?> { ["provider"] = "ldap", ["ldap"] = ldap } };
        return new LdapAuthenticatorScope(Authenticators.Create(options, NullLoggerFactory.Instance, TimeProvider.System));
    }

    /// <summary>Disposes the authenticator (its private CA directory) after the test.</summary>
    private sealed class LdapAuthenticatorScope(IAuthenticator authenticator) : IDisposable
    {
        public Task<AuthResult> LoginAsync(string username, string password)
            => authenticator.AuthenticateAsync(username, password, CancellationToken.None).DefaultTimeout();

        public void Dispose() => (authenticator as IDisposable)?.Dispose();
    }

    private int Ldaps => slapd.Server.TlsPort!.Value;

    [Theory]
    [InlineData("simple_tls", false)]
    [InlineData("simple_tls", true)]
    [InlineData("start_tls", false)]
    [InlineData("start_tls", true)]
    public async Task Tls_ServerCertificateSignedByTheConfiguredCa_LoginWorksAndWrongPasswordIsDenied(string method, bool serviceAccount)
    {
        using var authenticator = Create(method, method == "simple_tls" ? Ldaps : slapd.Server.Port, slapd.Server.CaFile, serviceAccount);

        (await authenticator.LoginAsync("alice", "alice-pw")).ShouldBe(AuthResult.Accepted);
        (await authenticator.LoginAsync("alice", "wrong")).ShouldBe(AuthResult.Denied);
    }

    [Theory]
    [InlineData("simple_tls")]
    [InlineData("start_tls")]
    public async Task Tls_CertificateOfAnUnknownCa_DirectoryUnavailableNotALogin(string method)
    {
        using var authenticator = Create(method, method == "simple_tls" ? Ldaps : slapd.Server.Port, slapd.Server.OtherCaFile);

        (await authenticator.LoginAsync("alice", "alice-pw")).ShouldBe(AuthResult.Unavailable);
    }

    [Fact]
    public async Task Tls_NoCaConfigured_TheSystemStoreDoesNotKnowTheTestCa_Unavailable()
    {
        using var authenticator = Create("simple_tls", Ldaps, caFile: null);

        (await authenticator.LoginAsync("alice", "alice-pw")).ShouldBe(AuthResult.Unavailable);
    }

    [Fact]
    public async Task Tls_PlainLdapClientOnTheLdapsPort_Unavailable()
    {
        using var authenticator = Create("", Ldaps, caFile: null);

        (await authenticator.LoginAsync("alice", "alice-pw")).ShouldBe(AuthResult.Unavailable);
    }

    [Fact]
    public void Tls_CaFileThatDoesNotExist_RefusedAtStartWithTheKey()
    {
        var missing = Path.Combine(Path.GetTempPath(), "vmpooler-no-such-ca-" + Guid.NewGuid().ToString("N") + ".pem");

        var error = Should.Throw<ArgumentException>(() => Create("simple_tls", Ldaps, missing));

        error.Message.ShouldContain("auth.ldap.encryption.tls_options.ca_file: no such file");
    }
}
