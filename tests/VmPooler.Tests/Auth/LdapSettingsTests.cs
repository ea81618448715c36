using VmPooler.Api.Auth;

namespace VmPooler.Tests.Auth;

public class LdapSettingsTests
{
    private static Dictionary<string, object?> Auth(Dictionary<string, object?> ldap)
        => new() { ["provider"] = "ldap", ["ldap"] = ldap };

    private static Dictionary<string, object?> Minimal(params (string Key, object? Value)[] extra)
    {
        var ldap = new Dictionary<string, object?> { ["host"] = "ldap.example.com", ["base"] = "dc=example,dc=com", ["user_object"] = "uid" };
        foreach (var (key, value) in extra)
        {
            ldap[key] = value;
        }

        return Auth(ldap);
    }

    [Fact]
    public void Parse_Minimal_Defaults()
    {
        var settings = LdapSettings.Parse(Minimal());

        settings.Host.ShouldBe("ldap.example.com");
        settings.Port.ShouldBe(389);
        settings.Bases.ShouldBe(["dc=example,dc=com"]);
        settings.UserObjects.ShouldBe(["uid"]);
        settings.Encryption.ShouldBe(LdapEncryption.None);
        settings.ServiceAccount.ShouldBeNull();
        settings.Timeout.ShouldBe(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Parse_StringsWithSpaces_SplitOnWhitespace()
    {
        var settings = LdapSettings.Parse(Minimal(("base", "ou=people,dc=x  ou=staff,dc=x\tou=ops,dc=x"), ("user_object", " uid cn ")));

        settings.Bases.ShouldBe(["ou=people,dc=x", "ou=staff,dc=x", "ou=ops,dc=x"]);
        settings.UserObjects.ShouldBe(["uid", "cn"]);
    }

    [Fact]
    public void Parse_Lists_TakenItemByItem()
    {
        var settings = LdapSettings.Parse(Minimal(
            ("base", new List<object?> { "ou=My People,dc=x", "ou=staff,dc=x" }),
            ("user_object", new List<object?> { "uid", "cn" })));

        settings.Bases.ShouldBe(["ou=My People,dc=x", "ou=staff,dc=x"]);
        settings.UserObjects.ShouldBe(["uid", "cn"]);
    }

    [Fact]
    public void Parse_PortAndTimeout_FromStrings()
    {
        var settings = LdapSettings.Parse(Minimal(("port", "636"), ("timeout", "2.5")));

        settings.Port.ShouldBe(636);
        settings.Timeout.ShouldBe(TimeSpan.FromSeconds(2.5));
    }

    [Theory]
    [InlineData(null, nameof(LdapEncryption.None))]
    [InlineData("", nameof(LdapEncryption.None))]
    [InlineData("simple_tls", nameof(LdapEncryption.SimpleTls))]
    [InlineData(":simple_tls", nameof(LdapEncryption.SimpleTls))]
    [InlineData("start_tls", nameof(LdapEncryption.StartTls))]
    [InlineData(":start_tls", nameof(LdapEncryption.StartTls))]
    public void Parse_EncryptionMethod_SymbolOrString(string? method, string expected)
    {
        var encryption = new Dictionary<string, object?>
        {
            ["method"] = method,
            ["tls_options"] = new Dictionary<string, object?> { ["ssl_version"] = "TLSv1_2" },
        };

        LdapSettings.Parse(Minimal(("encryption", encryption))).Encryption.ToString().ShouldBe(expected);
    }

    [Fact]
    public void Parse_EmptyEncryptionHash_NoTls()
    {
        LdapSettings.Parse(Minimal(("encryption", new Dictionary<string, object?>()))).Encryption.ShouldBe(LdapEncryption.None);
    }

    [Fact]
    public void Parse_ServiceAccount_Read()
    {
        var account = new Dictionary<string, object?> { ["user_dn"] = "cn=svc,dc=x", ["password"] = "pw" };

        var settings = LdapSettings.Parse(Minimal(("service_account_hash", account)));

        settings.ServiceAccount.ShouldBe(new LdapServiceAccount("cn=svc,dc=x", "pw"));
        settings.ServiceAccount!.ToString().ShouldNotContain("pw");
    }

    [Fact]
    public void Parse_KeysWithSymbolColon_Read()
    {
        var auth = new Dictionary<string, object?>
        {
            [":ldap"] = new Dictionary<string, object?> { [":host"] = "h", [":base"] = "dc=x", [":user_object"] = "uid", [":port"] = "1389" },
        };

        var settings = LdapSettings.Parse(auth);

        settings.Host.ShouldBe("h");
        settings.Port.ShouldBe(1389);
    }

    [Theory]
    [InlineData("host", null, "auth.ldap.host")]
    [InlineData("base", " ", "auth.ldap.base")]
    [InlineData("user_object", null, "auth.ldap.user_object")]
    [InlineData("user_object", "uid=*", "auth.ldap.user_object")]
    [InlineData("port", "0", "auth.ldap.port")]
    [InlineData("port", "ldap", "auth.ldap.port")]
    [InlineData("timeout", "-1", "auth.ldap.timeout")]
    [InlineData("encryption", "tls", "auth.ldap.encryption")]
    public void Parse_BadValue_ErrorNamesKey(string key, string? value, string expected)
    {
        var error = Should.Throw<ArgumentException>(() => LdapSettings.Parse(Minimal((key, value))));

        error.Message.ShouldStartWith(expected + ":");
    }

    [Fact]
    public void Parse_UnknownEncryptionMethod_ErrorNamesKey()
    {
        var encryption = new Dictionary<string, object?> { ["method"] = ":ssl" };

        Should.Throw<ArgumentException>(() => LdapSettings.Parse(Minimal(("encryption", encryption))))
            .Message.ShouldStartWith("auth.ldap.encryption.method:");
    }

    [Fact]
    public void Parse_ServiceAccountWithoutPassword_ErrorNamesKey()
    {
        var account = new Dictionary<string, object?> { ["user_dn"] = "cn=svc,dc=x" };

        Should.Throw<ArgumentException>(() => LdapSettings.Parse(Minimal(("service_account_hash", account))))
            .Message.ShouldStartWith("auth.ldap.service_account_hash.password:");
    }

    [Fact]
    public void Parse_NoLdapSection_ErrorNamesKey()
    {
        Should.Throw<ArgumentException>(() => LdapSettings.Parse(new Dictionary<string, object?> { ["provider"] = "ldap" }))
            .Message.ShouldStartWith("auth.ldap:");
    }
}
