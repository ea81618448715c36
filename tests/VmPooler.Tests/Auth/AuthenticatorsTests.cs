using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Api.Auth;
using VmPooler.Core.Configuration;

namespace VmPooler.Tests.Auth;

public class AuthenticatorsTests
{
    [Fact]
    public void Create_Dummy_DummyAuthenticator()
    {
        var authenticator = Authenticators.Create(new AuthOptions { Provider = "dummy" }, NullLoggerFactory.Instance, TimeProvider.System);

        authenticator.ShouldBeOfType<DummyAuthenticator>();
    }

    [Fact]
    public void Create_Ldap_LdapAuthenticator()
    {
        var settings = new Dictionary<string, object?>
        {
            ["provider"] = "ldap",
            ["ldap"] = new Dictionary<string, object?> { ["host"] = "h", ["base"] = "dc=x", ["user_object"] = "uid" },
        };

        var authenticator = Authenticators.Create(new AuthOptions { Provider = "ldap", Settings = settings }, NullLoggerFactory.Instance, TimeProvider.System);

        authenticator.ShouldBeOfType<LdapAuthenticator>();
    }

    [Fact]
    public void Create_LdapWithoutHost_ThrowsNamingKey()
    {
        var settings = new Dictionary<string, object?> { ["provider"] = "ldap", ["ldap"] = new Dictionary<string, object?>() };

        Should.Throw<ArgumentException>(() => Authenticators.Create(new AuthOptions { Provider = "ldap", Settings = settings }, NullLoggerFactory.Instance, TimeProvider.System))
            .Message.ShouldStartWith("auth.ldap.host:");
    }

    [Theory]
    [InlineData("kerberos")]
    [InlineData("")]
    [InlineData("LDAP")]
    public async Task Create_UnknownProvider_AlwaysDenies(string provider)
    {
        var authenticator = Authenticators.Create(new AuthOptions { Provider = provider }, NullLoggerFactory.Instance, TimeProvider.System);

        (await authenticator.AuthenticateAsync("admin", "s3cr3t", CancellationToken.None)).ShouldBe(AuthResult.Denied);
    }
}
