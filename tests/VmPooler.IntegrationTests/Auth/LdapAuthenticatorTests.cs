using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Api.Auth;
using VmPooler.Core.Configuration;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Auth;

/// <summary>The LDAP provider against a real slapd, built through <see cref="Authenticators.Create"/> from raw settings as the config loader hands them over.</summary>
public class LdapAuthenticatorTests(SlapdFixture slapd) : IClassFixture<SlapdFixture>
{
    private const string BothBases = SlapdServer.People + " " + SlapdServer.Staff;

    private IAuthenticator Create(object bases, object userObjects, bool serviceAccount = false, int? port = null)
    {
        var ldap = new Dictionary<string, object?>
        {
            ["host"] = "127.0.0.1",
            ["port"] = (port ?? slapd.Server.Port).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["base"] = bases,
            ["user_object"] = userObjects,
            ["timeout"] = "5",
            ["encryption"] = new Dictionary<string, object?>(),
        };
        if (serviceAccount)
        {
            ldap["service_account_hash"] = new Dictionary<string, object?> { ["user_dn"] = SlapdServer.ServiceDn, ["password"] = SlapdServer.ServicePassword };
        }

        var options = new AuthOptions { Provider = "ldap", Settings = new Dictionary<string, object?> { ["provider"] = "ldap", ["ldap"] = ldap } };
        return Authenticators.Create(options, NullLoggerFactory.Instance, TimeProvider.System);
    }

    private static Task<AuthResult> LoginAsync(IAuthenticator authenticator, string username, string password)
        => authenticator.AuthenticateAsync(username, password, CancellationToken.None).DefaultTimeout();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AuthenticateAsync_GoodPassword_Accepted(bool serviceAccount)
    {
        var authenticator = Create(SlapdServer.People, "uid", serviceAccount);

        (await LoginAsync(authenticator, "alice", "alice-pw")).ShouldBe(AuthResult.Accepted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AuthenticateAsync_WrongPassword_Denied(bool serviceAccount)
    {
        var authenticator = Create(BothBases, "uid cn", serviceAccount);

        (await LoginAsync(authenticator, "alice", "wrong")).ShouldBe(AuthResult.Denied);
        (await LoginAsync(authenticator, "alice", "bob-pw")).ShouldBe(AuthResult.Denied);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AuthenticateAsync_UnknownUser_Denied(bool serviceAccount)
    {
        var authenticator = Create(BothBases, "uid cn", serviceAccount);

        (await LoginAsync(authenticator, "mallory", "alice-pw")).ShouldBe(AuthResult.Denied);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AuthenticateAsync_UserInSecondBase_Accepted(bool serviceAccount)
    {
        var authenticator = Create(BothBases, "uid", serviceAccount);

        (await LoginAsync(authenticator, "bob", "bob-pw")).ShouldBe(AuthResult.Accepted);
    }

    [Fact]
    public async Task AuthenticateAsync_BasesAsList_SecondBaseTried()
    {
        var authenticator = Create(new List<object?> { SlapdServer.People, SlapdServer.Staff }, new List<object?> { "uid" });

        (await LoginAsync(authenticator, "bob", "bob-pw")).ShouldBe(AuthResult.Accepted);
    }

    [Fact]
    public async Task AuthenticateAsync_UserNamedBySecondUserObject_Accepted()
    {
        // Carol's entry is cn=Carol: the bind as uid=Carol fails, the one as cn=Carol succeeds.
        var authenticator = Create(SlapdServer.People, "uid cn");

        (await LoginAsync(authenticator, "Carol", "carol-pw")).ShouldBe(AuthResult.Accepted);
    }

    [Fact]
    public async Task AuthenticateAsync_EntryNotNamedByUid_OnlyServiceAccountSearchFindsIt()
    {
        // Dave's DN is cn=Dave Smith,...: no DN can be guessed from "dave", but a search for (uid=dave) finds it.
        (await LoginAsync(Create(SlapdServer.People, "uid"), "dave", "dave-pw")).ShouldBe(AuthResult.Denied);
        (await LoginAsync(Create(SlapdServer.People, "uid", serviceAccount: true), "dave", "dave-pw")).ShouldBe(AuthResult.Accepted);
    }

    [Fact]
    public async Task AuthenticateAsync_NameWithSpaceInDn_AcceptedByDirectBind()
    {
        (await LoginAsync(Create(SlapdServer.People, "cn"), "Dave Smith", "dave-pw")).ShouldBe(AuthResult.Accepted);
    }

    [Fact]
    public async Task AuthenticateAsync_SearchFindsTwoEntriesInOneBase_Denied()
    {
        // The twins share uid=twin; the subtree search from the suffix finds both, which is not a login.
        var authenticator = Create(SlapdServer.Suffix, "uid", serviceAccount: true);

        (await LoginAsync(authenticator, "twin", "twin-pw")).ShouldBe(AuthResult.Denied);
    }

    [Fact]
    public async Task AuthenticateAsync_BaseThatDoesNotExist_SkippedToNextBase()
    {
        var authenticator = Create("ou=nowhere,dc=example,dc=com " + SlapdServer.Staff, "uid", serviceAccount: true);

        (await LoginAsync(authenticator, "bob", "bob-pw")).ShouldBe(AuthResult.Accepted);
    }

    [Theory]
    [InlineData("*")]
    [InlineData(")(uid=*")]
    [InlineData("admin)(|(uid=*")]
    [InlineData("*)(uid=*))(|(uid=*")]
    [InlineData("uid=admin,ou=people,dc=example,dc=com")]
    [InlineData("admin,ou=people,dc=example,dc=com")]
    [InlineData("a\\2a")]
    [InlineData("ad\\2a")]
    [InlineData("admin\0")]
    [InlineData("admin\0,ou=staff")]
    [InlineData("adm*")]
    [InlineData(" admin")]
    public async Task AuthenticateAsync_InjectionInUserName_Denied(string username)
    {
        // admin's real password: an injection that reached the directory and matched admin's entry would log in.
        foreach (var serviceAccount in new[] { false, true })
        {
            var authenticator = Create(BothBases, "uid cn", serviceAccount);

            (await LoginAsync(authenticator, username, "admin-pw")).ShouldBe(AuthResult.Denied, $"service account: {serviceAccount}");
        }
    }

    [Fact]
    public async Task AuthenticateAsync_AdminWithItsPassword_Accepted()
    {
        // Control for the injection cases: the same password does log in with the plain name.
        (await LoginAsync(Create(BothBases, "uid cn"), "admin", "admin-pw")).ShouldBe(AuthResult.Accepted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AuthenticateAsync_EmptyPassword_Denied(bool serviceAccount)
    {
        // An empty password would be an unauthenticated bind, which some servers accept as anonymous.
        (await LoginAsync(Create(BothBases, "uid cn", serviceAccount), "alice", "")).ShouldBe(AuthResult.Denied);
    }

    [Fact]
    public async Task AuthenticateAsync_WrongServiceAccountPassword_Unavailable()
    {
        var ldap = new Dictionary<string, object?>
        {
            ["host"] = "127.0.0.1",
            ["port"] = slapd.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["base"] = SlapdServer.People,
            ["user_object"] = "uid",
            ["service_account_hash"] = new Dictionary<string, object?> { ["user_dn"] = SlapdServer.ServiceDn, ["password"] = "not-it" },
        };
        var authenticator = Authenticators.Create(
            new AuthOptions { Provider = "ldap", Settings = new Dictionary<string, object?> { ["ldap"] = ldap } }, NullLoggerFactory.Instance, TimeProvider.System);

        (await LoginAsync(authenticator, "alice", "alice-pw")).ShouldBe(AuthResult.Unavailable);
    }

    [Fact]
    public async Task AuthenticateAsync_ManyConcurrentLogins_EachAnsweredCorrectly()
    {
        var authenticator = Create(BothBases, "uid cn", serviceAccount: true);

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => i % 2 == 0
            ? LoginAsync(authenticator, "bob", "bob-pw")
            : LoginAsync(authenticator, "bob", "wrong")));

        results.Where((_, i) => i % 2 == 0).ShouldAllBe(r => r == AuthResult.Accepted);
        results.Where((_, i) => i % 2 == 1).ShouldAllBe(r => r == AuthResult.Denied);
    }
}
