using System.Net;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Api;

/// <summary>PUT /api/v3/vm/&lt;hostname&gt; (spec §2.4).</summary>
public partial class VmRoutesTests
{
    private static async Task<VmPoolerServer> WithRunningVmAsync(Task<VmPoolerServer> starting, string vm = "d1")
    {
        var server = await starting;
        await server.SeedReadyAsync("debian", vm);
        await CheckOutAsync(server, "debian");
        return server;
    }

    private static async Task<JsonDetails> DetailsAsync(VmPoolerServer server, string vm)
        => new(Details(await server.GetAsync("api/v3/vm/" + vm), vm));

    private sealed record JsonDetails(System.Text.Json.Nodes.JsonObject Node)
    {
        public string Lifetime => Node["lifetime"]!.ToJsonString();

        public string? Tags => Node["tags"]?.ToJsonString();
    }

    [Theory]
    [InlineData("4", "4")]
    [InlineData("\"6\"", "6")]
    [InlineData("20000", "20000")]
    public async Task PutVm_PositiveLifetime_Returns200AndGetShowsIt(string lifetime, string expected)
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", $$"""{"lifetime": {{lifetime}}}""")).ShouldBeOkTrue();

        (await DetailsAsync(server, "d1")).Lifetime.ShouldBe(expected);
    }

    [Fact]
    public async Task PutVm_Fqdn_ModifiesTheVm()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1.example.com", """{"lifetime": 3}""")).ShouldBeOkTrue();

        (await DetailsAsync(server, "d1")).Lifetime.ShouldBe("3");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("\"abc\"")]
    public async Task PutVm_LifetimeNotPositive_Returns400WithFailure(string lifetime)
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        var failures = (await server.PutAsync("api/v3/vm/d1", $$"""{"lifetime": {{lifetime}}}""")).ShouldBeFailure();

        failures.Count.ShouldBe(1);
        (await DetailsAsync(server, "d1")).Lifetime.ShouldBe("12");
    }

    [Fact]
    public async Task PutVm_LifetimeEqualToUpperLimit_Returns400()
    {
        // Spec Q4: a lifetime equal to max_lifetime_upper_limit is rejected (the original compares with ≥).
        await using var server = await WithRunningVmAsync(StartAsync(TestConfigs.ApiPoolsWithConfig("  max_lifetime_upper_limit: 10")));

        (await server.PutAsync("api/v3/vm/d1", """{"lifetime": 10}""")).ShouldBeFailure().Count.ShouldBe(1);
        (await server.PutAsync("api/v3/vm/d1", """{"lifetime": 11}""")).ShouldBeFailure().Count.ShouldBe(1);

        (await DetailsAsync(server, "d1")).Lifetime.ShouldBe("12");
    }

    [Fact]
    public async Task PutVm_LifetimeBelowUpperLimit_Returns200()
    {
        await using var server = await WithRunningVmAsync(StartAsync(TestConfigs.ApiPoolsWithConfig("  max_lifetime_upper_limit: 10")));

        (await server.PutAsync("api/v3/vm/d1", """{"lifetime": 9}""")).ShouldBeOkTrue();

        (await DetailsAsync(server, "d1")).Lifetime.ShouldBe("9");
    }

    [Fact]
    public async Task PutVm_Tags_Returns200AndGetShowsThem()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"project": "x"}}""")).ShouldBeOkTrue();

        (await DetailsAsync(server, "d1")).Tags.ShouldBe("""{"project":"x"}""");
    }

    [Fact]
    public async Task PutVm_LifetimeAndTagsTogether_AppliesBoth()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", """{"lifetime": 2, "tags": {"owner": "someone@example.com"}}""")).ShouldBeOkTrue();

        var details = await DetailsAsync(server, "d1");
        details.Lifetime.ShouldBe("2");
        details.Tags.ShouldBe("""{"owner":"someone@example.com"}""");
    }

    [Fact]
    public async Task PutVm_TagOutsideAllowedTags_Returns400WithFailure()
    {
        await using var server = await WithRunningVmAsync(StartAsync(TestConfigs.ApiPoolsWithConfig("  allowed_tags:\n    - project\n")));

        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"owner": "x"}}""")).ShouldBeFailure().Count.ShouldBe(1);
        (await DetailsAsync(server, "d1")).Tags.ShouldBeNull();

        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"project": "x"}}""")).ShouldBeOkTrue();
        (await DetailsAsync(server, "d1")).Tags.ShouldBe("""{"project":"x"}""");
    }

    [Fact]
    public async Task PutVm_TagWithFilter_KeepsTheCapturedPart()
    {
        // :tagfilter: url: '(.*)\/'
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"url": "foo.com/something.html"}}""")).ShouldBeOkTrue();

        (await DetailsAsync(server, "d1")).Tags.ShouldBe("""{"url":"foo.com"}""");
    }

    [Fact]
    public async Task PutVm_EmptyTagValue_IsSkippedSilently()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"project": ""}}""")).ShouldBeOkTrue();

        (await DetailsAsync(server, "d1")).Tags.ShouldBeNull();
    }

    [Theory]
    [InlineData("""{"tags": {"bad key!": "x"}}""")]
    [InlineData("""{"tags": {"project": "semi;colon"}}""")]
    public async Task PutVm_InvalidTag_Returns400WithFailure(string body)
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", body)).ShouldBeFailure().Count.ShouldBe(1);
    }

    [Fact]
    public async Task PutVm_UnknownKey_Returns400WithFailure()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", """{"colour": "blue"}""")).ShouldBeFailure().Count.ShouldBe(1);
    }

    [Fact]
    public async Task PutVm_ValidAndInvalidKeys_Returns400AndChangesNothing()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        var failures = (await server.PutAsync("api/v3/vm/d1", """{"lifetime": 4, "tags": {"project": "x"}, "colour": "blue"}""")).ShouldBeFailure();

        failures.Count.ShouldBe(1);
        var details = await DetailsAsync(server, "d1");
        details.Lifetime.ShouldBe("12");
        details.Tags.ShouldBeNull();
    }

    [Theory]
    [InlineData("""{"tags": "project"}""")]
    [InlineData("""{"tags": ["project", "x"]}""")]
    [InlineData("""{"tags": 5}""")]
    public async Task PutVm_TagsNotAnObject_Returns400WithFailure(string body)
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", body)).ShouldBeFailure().Count.ShouldBe(1);
    }

    [Theory]
    [InlineData("""{"lifetime": 4}""")]
    [InlineData("{not json")]
    public async Task PutVm_UnknownHost_Returns404(string body)
    {
        await using var server = await StartAsync();

        (await server.PutAsync("api/v3/vm/nosuchvm", body)).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PutVm_InvalidHostname_Returns400WithError()
    {
        await using var server = await StartAsync();

        (await server.PutAsync("api/v3/vm/bad_host!", """{"lifetime": 4}""")).ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Invalid hostname format");
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"lifetime\": }")]
    public async Task PutVm_BadJson_Returns400WithError(string body)
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", body)).ShouldBeError(HttpStatusCode.BadRequest).ShouldStartWith("Invalid JSON");
    }

    [Fact]
    public async Task PutVm_JsonArray_Returns400WithError()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", """[{"lifetime": 4}]""")).ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Request body must be a JSON object");
    }

    [Fact]
    public async Task PutVm_EmptyBody_Returns200AndChangesNothing()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1")).ShouldBeOkTrue();
        (await server.PutAsync("api/v3/vm/d1", "{}")).ShouldBeOkTrue();

        var vm = await server.Inventory.GetVmAsync("d1", CancellationToken.None).DefaultTimeout();
        vm.ShouldNotBeNull().Get(VmFields.Lifetime).ShouldBeNull();
        vm.Fields.Keys.ShouldNotContain(k => k.StartsWith(VmFields.TagPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PutVm_ReadyVm_CanBeTagged()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"project": "x"}}""")).ShouldBeOkTrue();

        (await DetailsAsync(server, "d1")).Tags.ShouldBe("""{"project":"x"}""");
    }
}
