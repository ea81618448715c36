using System.Net;
using VmPooler.IntegrationTests.Fixtures;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// beaker-vmpooler's tag payload (issue 14): a null value and a comma-separated value are what it sends, labelled
/// <c>application/x-www-form-urlencoded</c> because Ruby's Net::HTTP#post does so by default.
/// </summary>
public partial class VmRoutesTests
{
    /// <summary>The body beaker-vmpooler 1.4 builds in <c>add_tags</c> for a host outside CI.</summary>
    private const string BeakerTags = """
        {"tags": {"beaker_version": "4.39.0", "jenkins_build_url": null, "department": "unknown", "project": "unknown",
                  "created_by": "jenkins", "name": "debian-12-x86_64-1", "roles": "agent, master"}}
        """;

    [Theory]
    [InlineData("vm/d1")]
    [InlineData("api/v1/vm/d1")]
    [InlineData("api/v3/vm/d1")]
    public async Task PutVm_BeakerTagPayloadAsFormUrlEncoded_AcceptedAndShown(string path)
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.SendAsync(HttpMethod.Put, path, BeakerTags, "application/x-www-form-urlencoded")).ShouldBeOkTrue();

        var tags = (await DetailsAsync(server, "d1")).Node["tags"]!.AsObject();
        tags.Select(p => p.Key).ShouldBe(["beaker_version", "department", "project", "created_by", "name", "roles"]);
        tags["roles"]!.GetValue<string>().ShouldBe("agent, master");
        tags.ContainsKey("jenkins_build_url").ShouldBeFalse();

        var summary = await server.GetAsync("api/v3/summary/tag/roles");
        summary.ShouldBeJson(HttpStatusCode.OK);
        summary.Object["tag"]!["roles"]!["agent, master"]!.GetValue<int>().ShouldBe(1);
    }

    [Theory]
    [InlineData("""{"tags": {"roles": "a=b, c"}}""", "a=b, c")]
    [InlineData("""{"tags": {"url": "https://ci.example.com/job/1/?x=1"}}""", "https://ci.example.com/job/1")]
    public async Task PutVm_TagValueWithCommaOrEquals_Stored(string body, string expected)
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.PutAsync("api/v3/vm/d1", body)).ShouldBeOkTrue();

        var tags = (await DetailsAsync(server, "d1")).Node["tags"]!.AsObject();
        tags.Single().Value!.GetValue<string>().ShouldBe(expected);
    }

    [Fact]
    public async Task PutVm_AllowedTags_UnlistedTagRejectedUnlistedNullIgnored()
    {
        await using var server = await WithRunningVmAsync(StartAsync(TestConfigs.ApiPoolsWithConfig("  allowed_tags:\n    - project\n")));

        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"project": "x", "roles": "agent, master"}}""")).ShouldBeFailure().Count.ShouldBe(1);
        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"project": "x", "note": null}}""")).ShouldBeOkTrue();
        (await DetailsAsync(server, "d1")).Tags.ShouldBe("""{"project":"x"}""");
    }

    [Fact]
    public async Task PutVm_TagValueTooLongEvenWithCommas_Returns400()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        var value = string.Join(", ", Enumerable.Repeat("agent", 50));
        (await server.PutAsync("api/v3/vm/d1", "{\"tags\": {\"roles\": \"" + value + "\"}}")).ShouldBeFailure().Count.ShouldBe(1);
    }
}
