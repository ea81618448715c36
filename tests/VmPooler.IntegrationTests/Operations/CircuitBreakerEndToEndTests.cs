using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Operations;

/// <summary>
/// Provider circuit breakers through the whole application (issue 14): a provider outage (the dummy provider's
/// <c>outage_file</c>, which counts every call that reaches the provider) opens the breaker, <c>/status</c> names the
/// provider that is down (and so does the dashboard's data, for its banner), calls stop reaching the provider while it
/// is open, and it closes and the pool refills after.
/// </summary>
public sealed class CircuitBreakerEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("vmpooler-breaker-").FullName;

    private string OutageFile => Path.Combine(_directory, "outage");

    private string Yaml(double breakerTimeoutSeconds) => $$"""
        :providers:
          :dummy:
            createvm_max_time: 0.02
            boot_max_time: 0.02
            outage_file: '{{OutageFile}}'
        :config:
          circuit_breaker_failure_threshold: 3
          circuit_breaker_timeout: {{breakerTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}}
          circuit_breaker_half_open_attempts: 2
          check_loop_delay_min: 0.1
          check_loop_delay_max: 0.2
        :pools:
          - name: p
            size: 2
        """;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private int ProviderCalls() => File.Exists(OutageFile + ".calls") ? File.ReadAllLines(OutageFile + ".calls").Length : 0;

    private static async Task<JsonObject> StatusAsync(VmPoolerServer server)
        => (await server.GetAsync("api/v3/status")).ShouldBeJson(HttpStatusCode.OK).Object;

    private static async Task<JsonNode?> BreakerAsync(VmPoolerServer server) => (await StatusAsync(server))["providers"]?["dummy"];

    private static async Task<JsonArray> DashboardProvidersDownAsync(VmPoolerServer server)
        => (await server.GetAsync("dashboard/data")).ShouldBeJson(HttpStatusCode.OK).Object["providersDown"]!.AsArray();

    private static Task WaitForPoolAsync(VmPoolerServer server, int ready)
        => AsyncTestHelpers.WaitUntilAsync(
            async () => (await StatusAsync(server))["pools"]!["p"]!["ready"]!.GetValue<int>() == ready,
            $"pool p has {ready} ready VMs",
            Deadline);

    [Fact]
    public async Task Outage_BreakerOpen_StatusNamesTheProviderAndNoCallReachesIt()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml(3600), VmPoolerRole.All, output: output);
        await WaitForPoolAsync(server, 2);
        (await BreakerAsync(server))!["state"]!.GetValue<string>().ShouldBe("closed");

        await File.WriteAllTextAsync(OutageFile, "down");
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await BreakerAsync(server))?["rejected"]?.GetValue<long>() >= 3,
            "the breaker is open and refusing calls",
            Deadline);
        var status = await StatusAsync(server);
        status["status"]!["providers_down"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldBe(["dummy"]);
        var breaker = status["providers"]!["dummy"]!;
        breaker["state"]!.GetValue<string>().ShouldBe("open");
        breaker["last_error"]!.GetValue<string>().ShouldContain("(provider outage)");
        breaker["retry_at"].ShouldNotBeNull();
        var banner = (await DashboardProvidersDownAsync(server)).ShouldHaveSingleItem()!;
        banner["name"]!.GetValue<string>().ShouldBe("dummy");
        banner["state"]!.GetValue<string>().ShouldBe("open");
        banner["pools"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldBe(["p"]);
        banner["lastError"]!.GetValue<string>().ShouldContain("(provider outage)");
        banner["retryAt"]!.GetValue<string>().ShouldBe(breaker["retry_at"]!.GetValue<string>());

        // While open (no probe for an hour), refused calls pile up and none reaches the provider.
        var callsWhenOpen = ProviderCalls();
        var rejectedWhenOpen = breaker["rejected"]!.GetValue<long>();
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await BreakerAsync(server))!["rejected"]!.GetValue<long>() >= rejectedWhenOpen + 10,
            "ten more calls are refused",
            Deadline);
        ProviderCalls().ShouldBe(callsWhenOpen);
        callsWhenOpen.ShouldBeGreaterThanOrEqualTo(3);
    }

    [Fact]
    public async Task Outage_Ends_BreakerClosesAndThePoolRefills()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml(0.5), VmPoolerRole.All, output: output);
        await WaitForPoolAsync(server, 2);

        await File.WriteAllTextAsync(OutageFile, "down");
        (await server.PostAsync("api/v3/vm/p")).ShouldBeJson(HttpStatusCode.OK);
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await BreakerAsync(server))?["failures"]?.GetValue<int>() >= 3,
            "the breaker has tripped",
            Deadline);

        File.Delete(OutageFile);
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await BreakerAsync(server))?["state"]?.GetValue<string>() == "closed",
            "the breaker closes after the outage",
            Deadline);
        await WaitForPoolAsync(server, 2);
        (await StatusAsync(server))["status"]!.AsObject().ContainsKey("providers_down").ShouldBeFalse();
        (await DashboardProvidersDownAsync(server)).ShouldBeEmpty();
    }
}
