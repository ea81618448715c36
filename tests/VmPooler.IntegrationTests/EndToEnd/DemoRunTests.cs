using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.EndToEnd;

/// <summary>
/// The "done when" of the walking skeleton, against the real executable in its own process: started with no
/// configuration at all it serves the demo pools, fills them, hands a VM out, describes it, rejects bad requests,
/// takes it back and refills; started with a broken configuration it lists every problem and exits non-zero.
/// </summary>
public class DemoRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan FillTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan RefillTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Vmpooler_NoConfiguration_ServesFillsAndRecyclesTheDemoPools()
    {
        await using var vmpooler = VmPoolerProcess.Start();
        try
        {
            var demo = VmPoolerServer.LoadOptions(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "examples", "vmpooler.yaml")));
            demo.Pools.ShouldNotBeEmpty();
            var pool = demo.Pools[0];

            // Every demo pool fills up (ready == max).
            JsonObject? pools = null;
            await AsyncTestHelpers.WaitUntilAsync(
                async () =>
                {
                    pools = await TryGetPoolsAsync(vmpooler);
                    return pools is not null && pools.All(p => Ready(p.Value!) == Max(p.Value!));
                },
                "every demo pool is full",
                FillTimeout);
            pools!.Select(p => p.Key).ShouldBe(demo.Pools.Select(p => p.Name));
            pools!.ShouldAllBe(p => Max(p.Value!) > 0);
            var status = (await vmpooler.SendAsync(HttpMethod.Get, "api/v3/status")).ShouldBeJson(HttpStatusCode.OK).Object;
            status["status"]!["ok"]!.GetValue<bool>().ShouldBeTrue();

            // Check one out.
            var checkout = (await vmpooler.SendAsync(HttpMethod.Post, $"api/v3/vm/{pool.Name}")).ShouldBeJson(HttpStatusCode.OK);
            checkout.Keys.ShouldBe(["ok", pool.Name]);
            var hostname = checkout.Object[pool.Name]!["hostname"]!.GetValue<string>();
            hostname.ShouldNotBeNullOrWhiteSpace();
            if (demo.DomainOf(pool) is { } domain)
            {
                hostname.ShouldEndWith("." + domain);
            }

            // It is running, from the pool's template.
            var vm = hostname.Split('.')[0];
            var details = (await vmpooler.SendAsync(HttpMethod.Get, $"api/v3/vm/{hostname}")).ShouldBeJson(HttpStatusCode.OK).Object;
            details[vm]!["state"]!.GetValue<string>().ShouldBe("running");
            details[vm]!["template"]!.GetValue<string>().ShouldBe(pool.Name);

            // Bad requests are refused with the right codes.
            (await vmpooler.SendAsync(HttpMethod.Post, "api/v3/vm", "{\"" + pool.Name + "\": 1"))
                .ShouldBeError(HttpStatusCode.BadRequest).ShouldStartWith("Invalid JSON");
            (await vmpooler.SendAsync(HttpMethod.Post, "api/v3/vm", """{"no-such-pool": 1}""")).ShouldBeOkFalse(HttpStatusCode.NotFound);
            (await vmpooler.SendAsync(HttpMethod.Post, "api/v3/vm/no-such-pool")).ShouldBeOkFalse(HttpStatusCode.NotFound);

            // Give it back; the pool is full again, with nothing running.
            (await vmpooler.SendAsync(HttpMethod.Delete, $"api/v3/vm/{hostname}")).ShouldBeOkTrue();
            await AsyncTestHelpers.WaitUntilAsync(
                async () => await TryGetPoolsAsync(vmpooler) is { } now
                    && now[pool.Name] is { } entry
                    && Ready(entry) == Max(entry)
                    && entry["running"]!.GetValue<int>() == 0,
                $"{pool.Name} is full again with nothing running",
                RefillTimeout);

            vmpooler.HasExited.ShouldBeFalse();
        }
        finally
        {
            output.WriteLine(vmpooler.Describe());
        }
    }

    [Fact]
    public async Task Vmpooler_ConfigurationWithTwoMistakes_ExitsNonZeroNamingBoth()
    {
        const string BrokenYaml = """
            :pools:
              - name: 'first'
                size: five
              - size: 1
            """;
        await using var vmpooler = VmPoolerProcess.Start(environment: new Dictionary<string, string> { ["VMPOOLER_CONFIG"] = BrokenYaml });
        try
        {
            var exitCode = await vmpooler.WaitForExitAsync(TimeSpan.FromSeconds(20));

            exitCode.ShouldNotBe(0);
            vmpooler.StandardError.ShouldContain("pools[0].size");
            vmpooler.StandardError.ShouldContain("five");
            vmpooler.StandardError.ShouldContain("pools[1].name");
            vmpooler.StandardOutput.ShouldNotContain("listening on", Case.Insensitive);
        }
        finally
        {
            output.WriteLine(vmpooler.Describe());
        }
    }

    private static int Ready(JsonNode pool) => pool["ready"]!.GetValue<int>();

    private static int Max(JsonNode pool) => pool["max"]!.GetValue<int>();

    /// <summary>The <c>pools</c> section of /status, or null while the process is not answering yet.</summary>
    private static async Task<JsonObject?> TryGetPoolsAsync(VmPoolerProcess vmpooler)
    {
        if (vmpooler.HasExited)
        {
            throw new InvalidOperationException("vmpooler exited early: " + vmpooler.Describe());
        }

        try
        {
            var response = await vmpooler.SendAsync(HttpMethod.Get, "api/v3/status?view=pools");
            return response.Status == HttpStatusCode.OK ? response.Object["pools"]!.AsObject() : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
