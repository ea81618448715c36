using System.Net;
using VmPooler.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.EndToEnd;

/// <summary>
/// Issue 14, configuration honesty, against the real executable: an upstream key that is recognised but not implemented
/// is named by <c>--check-config</c> and warned about when the service starts; nothing is dropped without a word.
/// </summary>
public class ConfigHonestyTests(ITestOutputHelper output)
{
    private const string Config = """
        :config:
          logfile: /var/log/vmpooler.log
          migration_limit: 2
          dlq_enabled: true
        :pools:
          - name: a
            size: 1
        """;

    [Fact]
    public async Task CheckConfig_UnimplementedKeys_ListedByNameAndExitZero()
    {
        await using var vmpooler = VmPoolerProcess.Start(["--check-config"], new Dictionary<string, string> { ["VMPOOLER_CONFIG"] = Config }, listen: false);

        var exitCode = await vmpooler.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine(vmpooler.Describe());

        exitCode.ShouldBe(0);
        var warnings = vmpooler.StandardOutput.Split('\n').Where(l => l.StartsWith("vmpooler: warning: ", StringComparison.Ordinal)).ToList();
        warnings.Count.ShouldBe(2);
        warnings[0].ShouldStartWith("vmpooler: warning: config.logfile: recognised from vmpooler but not implemented");
        warnings[1].ShouldStartWith("vmpooler: warning: config.migration_limit:");
    }

    [Fact]
    public async Task Start_UnimplementedKey_WarnedInTheLogAndServes()
    {
        await using var vmpooler = VmPoolerProcess.Start(environment: new Dictionary<string, string> { ["VMPOOLER_CONFIG"] = Config });
        try
        {
            await vmpooler.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(60));

            (await vmpooler.SendAsync(HttpMethod.Get, "api/v3/status")).Status.ShouldBe(HttpStatusCode.OK);
            var log = vmpooler.StandardOutput + vmpooler.StandardError;
            log.ShouldContain("[!] config.logfile: recognised from vmpooler but not implemented");
            log.ShouldContain("[!] config.migration_limit: recognised from vmpooler but not implemented");
            log.ShouldNotContain("dlq_enabled");
        }
        finally
        {
            output.WriteLine(vmpooler.Describe());
        }
    }
}
