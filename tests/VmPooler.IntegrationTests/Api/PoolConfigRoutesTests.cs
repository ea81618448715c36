using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// The experimental pool configuration routes over real HTTP, API only (spec §2.7): <c>/config/poolsize</c>,
/// <c>/config/pooltemplate</c>, <c>/config/clonetarget</c> and <c>/poolreset</c>. Each test starts its own server, since
/// every success changes state. The manager's reaction is in <c>PoolConfigLifecycleTests</c>.
/// </summary>
public class PoolConfigRoutesTests(ITestOutputHelper output)
{
    private static readonly string Experimental = TestConfigs.ApiPoolsWithConfig("  experimental_features: true");

    private Task<VmPoolerServer> StartAsync(string? yaml = null) => VmPoolerServer.StartAsync(yaml ?? Experimental, VmPoolerRole.Api, output: output);

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    private static async Task<PoolOverrides> OverridesAsync(VmPoolerServer server)
        => await server.App.Services.GetRequiredService<IPoolOverrideStore>().GetAsync(CancellationToken.None).DefaultTimeout();

    /// <summary>The six routes: method, path, and a body that would succeed.</summary>
    public static TheoryData<string, string, string?> Routes => new()
    {
        { "POST", "api/v3/config/poolsize", """{"debian": 5}""" },
        { "DELETE", "api/v3/config/poolsize/debian", null },
        { "POST", "api/v3/config/pooltemplate", """{"debian": "templates/debian-13"}""" },
        { "DELETE", "api/v3/config/pooltemplate/debian", null },
        { "POST", "api/v3/config/clonetarget", """{"debian": "cluster2"}""" },
        { "POST", "api/v3/poolreset", """{"debian": true}""" },
    };

    private static Task<ApiResponse> SendAsync(VmPoolerServer server, string method, string path, string? body)
        => server.SendAsync(new HttpMethod(method), path, body);

    // ---- gate and auth ------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task EveryRoute_WithoutExperimentalFeatures_Answers405OkFalse(string method, string path, string? body)
    {
        await using var server = await StartAsync(TestConfigs.ApiPools);

        (await SendAsync(server, method, path, body)).ShouldBeOkFalse(HttpStatusCode.MethodNotAllowed);

        (await OverridesAsync(server)).Values.Values.SelectMany(v => v).ShouldBeEmpty();
    }

    [Fact]
    public async Task EveryRoute_WithoutExperimentalFeatures_Answers405EvenForBadInput()
    {
        await using var server = await StartAsync(TestConfigs.ApiPools);

        (await server.PostAsync("api/v3/config/poolsize", "{broken")).ShouldBeOkFalse(HttpStatusCode.MethodNotAllowed);
        (await server.PostAsync("api/v3/poolreset", "null")).ShouldBeOkFalse(HttpStatusCode.MethodNotAllowed);
        (await server.DeleteAsync("api/v3/config/poolsize/nope")).ShouldBeOkFalse(HttpStatusCode.MethodNotAllowed);
    }

    private const string WithAuth = """
        ---
        :config:
          experimental_features: true
        :auth:
          provider: 'dummy'
        :pools:
          - name: 'debian'
            alias: 'deb'
            size: 3
        """;

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task EveryRoute_AuthConfigured_Answers401WithoutAToken_AndSucceedsWithOne(string method, string path, string? body)
    {
        await using var server = await DebugAuthServer.StartAsync(WithAuth, output: output);
        var token = await server.TokenAsync();

        var denied = await server.SendAsync(new HttpMethod(method), path, body);
        var wrong = await server.SendAsync(new HttpMethod(method), path, body, token: "not-a-token");
        var allowed = await server.SendAsync(new HttpMethod(method), path, body, token);

        denied.ShouldBeOkFalse(HttpStatusCode.Unauthorized);
        denied.Headers["WWW-Authenticate"].ShouldBe("Basic realm=\"Authentication required\"");
        wrong.ShouldBeOkFalse(HttpStatusCode.Unauthorized);
        ((int)allowed.Status).ShouldBeInRange(200, 201, allowed.Body);
    }

    [Fact]
    public async Task AuthConfigured_WithoutExperimentalFeatures_Answers405BeforeAskingForAToken()
    {
        await using var server = await DebugAuthServer.StartAsync(WithAuth.Replace("experimental_features: true", "experimental_features: false", StringComparison.Ordinal), output: output);

        (await server.SendAsync(HttpMethod.Post, "api/v3/config/poolsize", """{"debian": 5}""")).ShouldBeOkFalse(HttpStatusCode.MethodNotAllowed);
    }

    // ---- bad bodies, common to the POST forms ---------------------------------------------------------------------

    [Theory]
    [InlineData("api/v3/config/poolsize")]
    [InlineData("api/v3/config/pooltemplate")]
    [InlineData("api/v3/config/clonetarget")]
    [InlineData("api/v3/poolreset")]
    public async Task Post_UnparsableJson_Answers400NeverA500(string path)
    {
        await using var server = await StartAsync();

        foreach (var body in new[] { "{broken", "not json", "{\"debian\": 1,}", "[1, 2]", "\"text\"" })
        {
            var response = await server.PostAsync(path, body);

            response.ShouldBeJson(HttpStatusCode.BadRequest);
            response.Object["ok"]!.GetValue<bool>().ShouldBeFalse(body);
        }

        var unparsable = await server.PostAsync(path, "{broken");
        unparsable.Keys.Take(2).ShouldBe(["ok", "message"]);
        unparsable.Object["message"]!.GetValue<string>().ShouldBe("JSON payload could not be parsed");
    }

    [Theory]
    [InlineData("api/v3/config/poolsize")]
    [InlineData("api/v3/config/pooltemplate")]
    [InlineData("api/v3/config/clonetarget")]
    [InlineData("api/v3/poolreset")]
    public async Task Post_JsonNull_Answers404OkFalse(string path)
    {
        await using var server = await StartAsync();

        (await server.PostAsync(path, "null")).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    // ---- poolsize -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task PoolSize_Change_Answers201ThenUnchanged200()
    {
        await using var server = await StartAsync();

        var first = await server.PostAsync("api/v3/config/poolsize", """{"debian": 5, "centos": 2}""");
        var same = await server.PostAsync("api/v3/config/poolsize", """{"debian": "5"}""");

        first.ShouldBeJson(HttpStatusCode.Created);
        first.Body.ShouldBe("{\n  \"ok\": true\n}");
        same.ShouldBeOkTrue();
        var overrides = await OverridesAsync(server);
        overrides.Size("debian").ShouldBe(5);
        overrides.Size("centos").ShouldBeNull("centos was set to its configured size: nothing to override");
    }

    [Fact]
    public async Task PoolSize_Zero_IsAValidSize()
    {
        await using var server = await StartAsync();

        (await server.PostAsync("api/v3/config/poolsize", """{"ubuntu": 0}""")).ShouldBeJson(HttpStatusCode.Created);

        (await OverridesAsync(server)).Size("ubuntu").ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"nope": 1}""", "nope")]
    [InlineData("""{"deb": 1}""", "deb")]
    [InlineData("""{"el": 1}""", "el")]
    [InlineData("""{"debian": -1}""", "debian")]
    [InlineData("""{"debian": "abc"}""", "debian")]
    [InlineData("""{"debian": 1.5}""", "debian")]
    [InlineData("""{"debian": null}""", "debian")]
    [InlineData("""{"debian": [1]}""", "debian")]
    [InlineData("""{"debian": "-1"}""", "debian")]
    public async Task PoolSize_UnknownPoolAliasOrBadSize_Answers400NotConfigured(string body, string bad)
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/config/poolsize", body);

        response.ShouldBeJson(HttpStatusCode.BadRequest);
        response.Json.ToJsonString().ShouldBe(Compact($$"""{"ok": false, "not_configured": ["{{bad}}"]}"""));
        (await OverridesAsync(server)).Get(PoolOverrideKind.Size, "debian").ShouldBeNull();
    }

    [Fact]
    public async Task PoolSize_OneBadAmongGood_ChangesNothing()
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/config/poolsize", """{"debian": 7, "nope": 1, "centos": "x"}""");

        response.ShouldBeJson(HttpStatusCode.BadRequest);
        response.Object["not_configured"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["nope", "centos"]);
        (await OverridesAsync(server)).Size("debian").ShouldBeNull("a rejected body changes no pool");
    }

    [Fact]
    public async Task DeletePoolSize_AfterAnOverride_Answers201WithBothSizesThen200()
    {
        await using var server = await StartAsync();
        (await server.PostAsync("api/v3/config/poolsize", """{"debian": 5}""")).ShouldBeJson(HttpStatusCode.Created);

        var reset = await server.DeleteAsync("api/v3/config/poolsize/debian");
        var again = await server.DeleteAsync("api/v3/config/poolsize/debian");

        reset.ShouldBeJson(HttpStatusCode.Created);
        reset.Body.ShouldBe("{\n  \"ok\": true,\n  \"pool_size_before_reset\": 5,\n  \"pool_size_before_overrides\": 3\n}");
        again.ShouldBeJson(HttpStatusCode.OK);
        again.Json.ToJsonString().ShouldBe(Compact("""{"ok": true, "pool_size_before_reset": 3, "pool_size_before_overrides": 3}"""));
        (await OverridesAsync(server)).Size("debian").ShouldBeNull();
    }

    [Fact]
    public async Task DeletePoolSize_UnknownPool_Answers404()
    {
        await using var server = await StartAsync();

        (await server.DeleteAsync("api/v3/config/poolsize/nope")).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.DeleteAsync("api/v3/config/pooltemplate/nope")).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("api/v3/config/poolsize/deb")]
    [InlineData("api/v3/config/pooltemplate/el")]
    public async Task DeleteOverride_Alias_Answers400(string path)
    {
        await using var server = await StartAsync();

        var response = await server.DeleteAsync(path);

        response.ShouldBeJson(HttpStatusCode.BadRequest);
        response.Object["ok"]!.GetValue<bool>().ShouldBeFalse();
    }

    // ---- pooltemplate -------------------------------------------------------------------------------------------

    [Fact]
    public async Task PoolTemplate_Change_Answers201ThenUnchanged200_AndDeleteRestores()
    {
        await using var server = await StartAsync();

        var first = await server.PostAsync("api/v3/config/pooltemplate", """{"debian": "templates/debian-13"}""");
        var same = await server.PostAsync("api/v3/config/pooltemplate", """{"debian": "templates/debian-13"}""");
        var reset = await server.DeleteAsync("api/v3/config/pooltemplate/debian");
        var again = await server.DeleteAsync("api/v3/config/pooltemplate/debian");

        first.ShouldBeJson(HttpStatusCode.Created);
        first.Body.ShouldBe("{\n  \"ok\": true\n}");
        same.ShouldBeOkTrue();
        reset.ShouldBeJson(HttpStatusCode.Created);
        reset.Body.ShouldBe("{\n  \"ok\": true,\n  \"template_before_reset\": \"templates/debian-13\",\n  \"template_before_overrides\": \"debian\"\n}");
        again.ShouldBeJson(HttpStatusCode.OK);
        again.Json.ToJsonString().ShouldBe(Compact("""{"ok": true, "template_before_reset": "debian", "template_before_overrides": "debian"}"""));
        (await OverridesAsync(server)).Get(PoolOverrideKind.Template, "debian").ShouldBeNull();
    }

    [Theory]
    [InlineData("""{"nope": "templates/x"}""", "nope")]
    [InlineData("""{"deb": "templates/x"}""", "deb")]
    [InlineData("""{"debian": ""}""", "debian")]
    [InlineData("""{"debian": 5}""", "debian")]
    [InlineData("""{"debian": null}""", "debian")]
    public async Task PoolTemplate_UnknownPoolAliasOrBadTemplate_Answers400BadTemplates(string body, string bad)
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/config/pooltemplate", body);

        response.ShouldBeJson(HttpStatusCode.BadRequest);
        response.Json.ToJsonString().ShouldBe(Compact($$"""{"ok": false, "bad_templates": ["{{bad}}"]}"""));
    }

    /// <summary>A vSphere pool (templates are <c>folder/template</c> paths) beside a dummy one; the API never connects.</summary>
    private const string WithVSpherePool = """
        :config:
          experimental_features: true
        :providers:
          :vc:
            provider_class: vsphere
            server: vcenter.example.com
            username: vmpooler
            password: secret
        :pools:
          - name: win
            size: 1
            provider: vc
            template: templates/win-2022
            folder: vmpooler/win
          - name: debian
            size: 1
            template: debian
        """;

    [Theory]
    [InlineData("win-2025")]
    [InlineData("/templates/win-2025")]
    [InlineData("templates/")]
    [InlineData("/")]
    public async Task PoolTemplate_VSpherePoolTemplateNotAPath_Answers400BadTemplatesAndChangesNothing(string template)
    {
        await using var server = await StartAsync(WithVSpherePool);

        // Upstream 3.9.1: a template without a '/' inside (or with one at either end) is refused; all or nothing.
        var response = await server.PostAsync("api/v3/config/pooltemplate", $$"""{"debian": "templates/debian-13", "win": "{{template}}"}""");

        response.ShouldBeJson(HttpStatusCode.BadRequest);
        response.Json.ToJsonString().ShouldBe(Compact("""{"ok": false, "bad_templates": ["win"]}"""));
        var overrides = await OverridesAsync(server);
        overrides.Get(PoolOverrideKind.Template, "win").ShouldBeNull();
        overrides.Get(PoolOverrideKind.Template, "debian").ShouldBeNull("nothing changes when any entry is bad");
        var config = (await server.GetAsync("api/v3/config")).ShouldBeJson(HttpStatusCode.OK).Object;
        config["pool_configuration"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "win")!["template"]!.GetValue<string>()
            .ShouldBe("templates/win-2022");
    }

    [Fact]
    public async Task PoolTemplate_VSpherePathOrOtherProvidersName_Answers201()
    {
        await using var server = await StartAsync(WithVSpherePool);

        var response = await server.PostAsync("api/v3/config/pooltemplate", """{"win": "templates/win-2025", "debian": "debian-13"}""");

        response.ShouldBeJson(HttpStatusCode.Created);
        var overrides = await OverridesAsync(server);
        overrides.Get(PoolOverrideKind.Template, "win").ShouldBe("templates/win-2025");
        overrides.Get(PoolOverrideKind.Template, "debian").ShouldBe("debian-13", "a dummy pool's template is not a path");
    }

    // ---- clonetarget --------------------------------------------------------------------------------------------

    [Fact]
    public async Task CloneTarget_Change_Answers201ThenUnchanged200()
    {
        await using var server = await StartAsync();

        var first = await server.PostAsync("api/v3/config/clonetarget", """{"debian": "cluster2"}""");
        var same = await server.PostAsync("api/v3/config/clonetarget", """{"debian": "cluster2"}""");

        first.ShouldBeJson(HttpStatusCode.Created);
        first.Body.ShouldBe("{\n  \"ok\": true\n}");
        same.ShouldBeOkTrue();
        (await OverridesAsync(server)).Get(PoolOverrideKind.CloneTarget, "debian").ShouldBe("cluster2");
    }

    [Theory]
    [InlineData("""{"nope": "cluster2"}""", "nope")]
    [InlineData("""{"linux": "cluster2"}""", "linux")]
    [InlineData("""{"debian": ""}""", "debian")]
    [InlineData("""{"debian": 3}""", "debian")]
    public async Task CloneTarget_UnknownPoolAliasOrBadTarget_Answers400BadTemplates(string body, string bad)
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/config/clonetarget", body);

        response.ShouldBeJson(HttpStatusCode.BadRequest);
        response.Json.ToJsonString().ShouldBe(Compact($$"""{"ok": false, "bad_templates": ["{{bad}}"]}"""));
    }

    // ---- poolreset ----------------------------------------------------------------------------------------------

    [Fact]
    public async Task PoolReset_KnownPools_Answers201AndQueuesEachReset()
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/poolreset", """{"debian": true, "centos": "anything"}""");

        response.ShouldBeJson(HttpStatusCode.Created);
        response.Body.ShouldBe("{\n  \"ok\": true\n}");
        var resets = await server.App.Services.GetRequiredService<IPoolOverrideStore>().TakeResetsAsync(_ => true, CancellationToken.None).DefaultTimeout();
        resets.ShouldBe(["debian", "centos"], ignoreOrder: true);
    }

    [Theory]
    [InlineData("""{"nope": 1}""", "nope")]
    [InlineData("""{"debian": 1, "pool4": 1}""", "pool4")]
    public async Task PoolReset_UnknownPool_Answers400BadPools(string body, string bad)
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/poolreset", body);

        response.ShouldBeJson(HttpStatusCode.BadRequest);
        response.Json.ToJsonString().ShouldBe(Compact($$"""{"ok": false, "bad_pools": ["{{bad}}"]}"""));
        (await server.App.Services.GetRequiredService<IPoolOverrideStore>().TakeResetsAsync(_ => true, CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task PoolReset_EmptyBody_Answers400()
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/poolreset", "");

        response.ShouldBeJson(HttpStatusCode.BadRequest);
    }

    // ---- what other routes show ---------------------------------------------------------------------------------

    [Fact]
    public async Task PoolSize_Override_IsShownByConfigStatusAndPoolstat()
    {
        await using var server = await StartAsync();
        (await server.PostAsync("api/v3/config/poolsize", """{"debian": 5}""")).ShouldBeJson(HttpStatusCode.Created);

        var config = (await server.GetAsync("api/v3/config")).ShouldBeJson(HttpStatusCode.OK).Object;
        var status = (await server.GetAsync("api/v3/status?view=pools,capacity")).ShouldBeJson(HttpStatusCode.OK).Object;
        var poolstat = (await server.GetAsync("api/v3/poolstat?pool=debian")).ShouldBeJson(HttpStatusCode.OK).Object;

        config["pool_configuration"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "debian")!["size"]!.GetValue<int>()
            .ShouldBe(5, "spec §2.7: /config shows the pools after applying size overrides");
        status["pools"]!["debian"]!["max"]!.GetValue<int>().ShouldBe(5, "spec §2.7: the API's pool list is re-synced from the overrides");
        status["capacity"]!["total"]!.GetValue<int>().ShouldBe(5 + 2 + 1 + 0);
        poolstat["pools"]!["debian"]!["max"]!.GetValue<int>().ShouldBe(5);
    }

    [Fact]
    public async Task PoolTemplate_Override_IsShownByConfigAsNotYetReady()
    {
        await using var server = await StartAsync();
        (await server.PostAsync("api/v3/config/pooltemplate", """{"debian": "templates/debian-13"}""")).ShouldBeJson(HttpStatusCode.Created);

        var debian = (await server.GetAsync("api/v3/config")).ShouldBeJson(HttpStatusCode.OK).Object["pool_configuration"]!.AsArray()
            .Single(p => p!["name"]!.GetValue<string>() == "debian")!;

        debian["template"]!.GetValue<string>().ShouldBe("templates/debian-13");
        debian["template_ready"]!.GetValue<bool>().ShouldBeFalse("no manager has prepared the new template yet");
    }
}
