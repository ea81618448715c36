using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using VmPooler.Api.Config;

namespace VmPooler.Tests.Api;

public class ConfigJsonTests
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Text(JsonNode? node) => node is null ? "null" : node.ToJsonString(Relaxed);

    private static Dictionary<string, object?> Map(params (string Key, object? Value)[] entries)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            map[key] = value;
        }

        return map;
    }

    [Theory]
    [InlineData("password")]
    [InlineData("Password")]
    [InlineData("bind_password")]
    [InlineData("passwd")]
    [InlineData("pass")]
    [InlineData("secret")]
    [InlineData("client_secret")]
    [InlineData("token")]
    [InlineData("auth_token")]
    [InlineData("api_key")]
    [InlineData("api-key")]
    [InlineData("apikey")]
    [InlineData("key_file")]
    [InlineData("json_key_file")]
    [InlineData("private_key")]
    [InlineData("credentials")]
    [InlineData("credentials_file")]
    [InlineData("ssh_key")]
    public void IsSecretKey_SecretNames_True(string key) => ConfigJson.IsSecretKey(key).ShouldBeTrue();

    [Theory]
    [InlineData("server")]
    [InlineData("username")]
    [InlineData("user_object")]
    [InlineData("vm_lifetime_auth")]
    [InlineData("keys")]
    [InlineData("passenger")]
    [InlineData("size")]
    public void IsSecretKey_OrdinaryNames_False(string key) => ConfigJson.IsSecretKey(key).ShouldBeFalse();

    [Fact]
    public void Mapping_SecretsAtAnyDepth_RedactedKeysKept()
    {
        var tree = Map(
            ("redis", Map(("server", "redis.example.com"), ("password", "hunter2"), ("username", "vmpooler"))),
            ("providers", Map(("vsphere", Map(("server", "vc.example.com"), ("password", "vc-secret"))))),
            ("pools", new List<object?> { Map(("name", "p"), ("service_account_hash", Map(("password", "sa-secret"), ("user", "sa")))) }),
            ("auth", Map(("ldap", Map(("credentials", Map(("dn", "cn=admin"), ("pw", "x"))))))));

        var json = Text(ConfigJson.Mapping(tree));

        json.ShouldBe("""
            {"redis":{"server":"redis.example.com","password":"<redacted>","username":"vmpooler"},"providers":{"vsphere":{"server":"vc.example.com","password":"<redacted>"}},"pools":[{"name":"p","service_account_hash":{"password":"<redacted>","user":"sa"}}],"auth":{"ldap":{"credentials":"<redacted>"}}}
            """.Trim());
    }

    [Fact]
    public void Mapping_UnsetSecret_StaysNull()
    {
        Text(ConfigJson.Mapping(Map(("password", null)))).ShouldBe("""{"password":null}""");
    }

    [Theory]
    [InlineData("redis://user:hunter2@redis.example.com:6379/0", "redis://user:<redacted>@redis.example.com:6379/0")]
    [InlineData("redis://:hunter2@redis.example.com", "redis://:<redacted>@redis.example.com")]
    [InlineData("rediss://hunter2@redis.example.com", "rediss://<redacted>@redis.example.com")]
    [InlineData("https://admin:pw@graphite.example.com/", "https://admin:<redacted>@graphite.example.com/")]
    [InlineData("https://admin@graphite.example.com/", "https://admin@graphite.example.com/")]
    [InlineData("redis.example.com:6379", "redis.example.com:6379")]
    [InlineData("user@example.com", "user@example.com")]
    [InlineData("a, redis://u:p@h1, redis://u:q@h2", "a, redis://u:<redacted>@h1, redis://u:<redacted>@h2")]
    public void RedactUrl_UserInfo_PasswordHidden(string value, string expected) => ConfigJson.RedactUrl(value).ShouldBe(expected);

    [Theory]
    [InlineData("3", "3")]
    [InlineData("-12", "-12")]
    [InlineData("1.5", "1.5")]
    [InlineData("true", "true")]
    [InlineData("Yes", "true")]
    [InlineData("off", "false")]
    [InlineData("debian-12", "\"debian-12\"")]
    [InlineData("1.2.3", "\"1.2.3\"")]
    [InlineData("(.*)\\/", "\"(.*)\\\\/\"")]
    [InlineData("99999999999999999999999", "\"99999999999999999999999\"")]
    [InlineData("", "\"\"")]
    public void Scalar_PlainText_TypedAsYamlWould(string text, string json) => Text(ConfigJson.Scalar(text)).ShouldBe(json);
}
