using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Startup;

/// <summary>
/// Upstream's command line (<c>vmpooler api</c>, <c>vmpooler manager</c>) and its <c>PORT</c> variable, which its
/// container image and Helm chart pass, so their manifests run our image unchanged.
/// </summary>
public class UpstreamArgumentsTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(new string[0], null)]
    [InlineData(new[] { "api" }, VmPoolerRole.Api)]
    [InlineData(new[] { "manager" }, VmPoolerRole.Manager)]
    [InlineData(new[] { "api", "manager" }, VmPoolerRole.All)]
    [InlineData(new[] { "manager", "api", "api" }, VmPoolerRole.All)]
    public void TryParseRoleWords_KnownWords_NameTheRole(string[] words, VmPoolerRole? expected)
    {
        UpstreamArguments.TryParseRoleWords(words, out var role).ShouldBeTrue();

        role.ShouldBe(expected);
    }

    [Theory]
    [InlineData("API")]
    [InlineData("all")]
    [InlineData("")]
    public void TryParseRoleWords_OtherWord_IsRefused(string word)
        => UpstreamArguments.TryParseRoleWords(["api", word], out _).ShouldBeFalse();

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData(" ", null)]
    [InlineData("4567", "http://0.0.0.0:4567")]
    [InlineData(" 8080 ", "http://0.0.0.0:8080")]
    [InlineData("1", "http://0.0.0.0:1")]
    [InlineData("65535", "http://0.0.0.0:65535")]
    public void TryListenUrlFromPort_PortOrNothing_GivesTheAddress(string? value, string? expected)
    {
        UpstreamArguments.TryListenUrlFromPort(value, out var url).ShouldBeTrue();

        url.ShouldBe(expected);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("+80")]
    [InlineData("http")]
    [InlineData("80.5")]
    public void TryListenUrlFromPort_NotAPort_IsRefused(string value)
        => UpstreamArguments.TryListenUrlFromPort(value, out _).ShouldBeFalse();

    [Fact]
    public async Task Vmpooler_UnknownRoleWord_ExitsTwoBeforeListening()
    {
        await using var vmpooler = VmPoolerProcess.Start(["apis"], listen: false);
        try
        {
            (await vmpooler.WaitForExitAsync(TimeSpan.FromSeconds(20))).ShouldBe(2);
            vmpooler.StandardError.ShouldContain("apis");
            vmpooler.StandardOutput.ShouldNotContain("listening on", Case.Insensitive);
        }
        finally
        {
            output.WriteLine(vmpooler.Describe());
        }
    }

    [Fact]
    public async Task Vmpooler_RoleWordContradictingRoleOption_ExitsTwo()
    {
        await using var vmpooler = VmPoolerProcess.Start(["manager", "--role", "api"], listen: false);
        try
        {
            (await vmpooler.WaitForExitAsync(TimeSpan.FromSeconds(20))).ShouldBe(2);
            vmpooler.StandardError.ShouldContain("disagree");
        }
        finally
        {
            output.WriteLine(vmpooler.Describe());
        }
    }

    [Fact]
    public async Task Vmpooler_PortNotANumber_ExitsNonZeroNamingPort()
    {
        await using var vmpooler = VmPoolerProcess.Start(environment: new Dictionary<string, string> { ["PORT"] = "http" }, listen: false);
        try
        {
            (await vmpooler.WaitForExitAsync(TimeSpan.FromSeconds(20))).ShouldBe(1);
            vmpooler.StandardError.ShouldContain("PORT");
        }
        finally
        {
            output.WriteLine(vmpooler.Describe());
        }
    }
}
