using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Api;

/// <summary>GET /api/v3/config and GET /api/v3/full_config over real HTTP (spec §2.7).</summary>
public class ConfigRoutesTests(ITestOutputHelper output)
{
    /// <summary>A configuration with secrets in several places; none of them may appear in any answer.</summary>
    private const string WithSecrets = """
        ---
        :config:
          vm_lifetime: 12
          experimental_features: true
          site_name: 'vmpooler'
          graphite_url: 'https://admin:hunter2@graphite.example.com/render'
        :auth:
          provider: 'ldap'
          ldap:
            host: 'ldap.example.com'
            port: 389
            base: 'ou=users,dc=example,dc=com'
            user_object: 'uid'
            bind_password: 'hunter2'
        :providers:
          :dummy:
            filename: '/tmp/dummy-backing.yaml'
            api_key: 's3cr3t-key'
        :pools:
          - name: 'debian'
            size: 1
            template: 'templates/debian'
            ready_ttl: 30
            service_account:
              token: 's3cr3t-token'
        """;

    private Task<VmPoolerServer> StartAsync(string yaml = TestConfigs.ApiPools) => VmPoolerServer.StartAsync(yaml, VmPoolerRole.Api, output: output);

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    // ---- GET /api/v3/config -------------------------------------------------------------------------------------

    [Fact]
    public async Task Config_Pools_ReturnsEveryPoolAsConfiguredWithEffectiveValuesAndTemplateReady()
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/config");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Body.ShouldStartWith("{\n  \"pool_configuration\": [\n    {\n      \"name\": \"debian\",");
        response.Json.ToJsonString().ShouldBe(Compact("""
            {
              "pool_configuration": [
                { "name": "debian", "alias": ["deb", "linux"], "size": 3, "dns_plugin": "example", "template": "debian", "ready_ttl": 60, "template_ready": true },
                { "name": "centos", "alias": "el", "size": 2, "dns_plugin": "example", "template": "centos", "ready_ttl": 60, "template_ready": true },
                { "name": "ubuntu", "size": 1, "template": "ubuntu", "ready_ttl": 60, "template_ready": true },
                { "name": "spare", "size": 0, "template": "spare", "ready_ttl": 60, "template_ready": true }
              ],
              "status": { "ok": true }
            }
            """));
    }

    [Fact]
    public async Task Config_PoolWithTemplateAndSecrets_KeepsConfiguredKeysAndRedacts()
    {
        await using var server = await StartAsync(WithSecrets);

        var response = await server.GetAsync("api/v3/config");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Body.ShouldNotContain("s3cr3t");
        response.Json["pool_configuration"]!.ToJsonString().ShouldBe(Compact("""
            [
              {
                "name": "debian", "size": 1, "template": "templates/debian", "ready_ttl": 30,
                "service_account": { "token": "<redacted>" }, "template_ready": true
              }
            ]
            """));
    }

    // ---- GET /api/v3/full_config --------------------------------------------------------------------------------

    [Fact]
    public async Task FullConfig_Secrets_AreRedactedButTheirKeysStay()
    {
        await using var server = await StartAsync(WithSecrets);

        var response = await server.GetAsync("api/v3/full_config");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["full_config", "status"]);
        response.Body.ShouldNotContain("hunter2");
        response.Body.ShouldNotContain("s3cr3t");
        response.Json.ToJsonString().ShouldBe(Compact("""
            {
              "full_config": {
                "config": {
                  "vm_lifetime": 12,
                  "experimental_features": true,
                  "site_name": "vmpooler",
                  "graphite_url": "https://admin:<redacted>@graphite.example.com/render"
                },
                "auth": {
                  "provider": "ldap",
                  "ldap": {
                    "host": "ldap.example.com", "port": 389, "base": "ou=users,dc=example,dc=com", "user_object": "uid",
                    "bind_password": "<redacted>"
                  }
                },
                "providers": { "dummy": { "filename": "/tmp/dummy-backing.yaml", "api_key": "<redacted>" } },
                "pools": [
                  { "name": "debian", "size": 1, "template": "templates/debian", "ready_ttl": 30, "service_account": { "token": "<redacted>" } }
                ]
              },
              "status": { "ok": true }
            }
            """));
    }

    [Fact]
    public async Task FullConfig_ApiPools_EchoesTheConfigurationTyped()
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/full_config");

        response.ShouldBeJson(HttpStatusCode.OK);
        var config = response.Object["full_config"]!.AsObject();
        config.Select(p => p.Key).ShouldBe(["dns_configs", "config", "tagfilter", "pools"]);
        config["config"]!.ToJsonString().ShouldBe("""{"vm_lifetime":12}""");
        config["tagfilter"]!.ToJsonString().ShouldBe(Compact("""{ "url": "(.*)\\/" }"""));
        config["pools"]![1]!.ToJsonString().ShouldBe(Compact("""{ "name": "centos", "alias": "el", "size": 2, "dns_plugin": "example" }"""));
        response.Object["status"]!.ToJsonString().ShouldBe("""{"ok":true}""");
    }
}
