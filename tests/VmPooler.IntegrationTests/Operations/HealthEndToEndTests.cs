using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Operations;

/// <summary>
/// The health evaluation through the whole application (issue 14): clone failures (injected while the dummy provider's calm_file is absent) fill the
/// dead-letter queue past the warning and then the critical threshold (degraded, unhealthy; <c>/readyz</c> 503 with
/// <c>health_check_readyz</c>), and once clones work again and the entries expire it is healthy again.
/// </summary>
public sealed class HealthEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);

    private readonly string _directory = Directory.CreateTempSubdirectory("vmpooler-health-").FullName;

    /// <summary>While this file exists the dummy provider injects no fault; without it every clone fails.</summary>
    private string CalmFile => Path.Combine(_directory, "calm");

    private string Yaml => $$"""
        :providers:
          :dummy:
            createvm_max_time: 0.02
            boot_max_time: 0.02
            createvm_fail_percent: 100
            calm_file: '{{CalmFile}}'
        :config:
          dlq_enabled: true
          dlq_ttl: 0.002
          circuit_breaker_enabled: false
          health_check_enabled: true
          health_check_interval: 0.2
          health_check_readyz: true
          health_thresholds:
            dlq_max_warning: 0
            dlq_max_critical: 3
          check_loop_delay_min: 0.1
          check_loop_delay_max: 0.2
        :pools:
          - name: p
            size: 2
        """;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<JsonObject> HealthAsync(VmPoolerServer server)
        => (await server.GetAsync("api/v3/health")).ShouldBeJson(HttpStatusCode.OK).Object;

    private async Task WaitForAsync(VmPoolerServer server, string status)
    {
        JsonObject last = null!;
        try
        {
            await AsyncTestHelpers.WaitUntilAsync(async () => (last = await HealthAsync(server))["status"]!.GetValue<string>() == status, $"health is {status}", Deadline);
        }
        finally
        {
            output.WriteLine("last health: " + last?.ToJsonString());
        }
    }

    [Fact]
    public async Task Health_CloneFailuresFillDlqThenStop_HealthyUnhealthyHealthy()
    {
        await File.WriteAllTextAsync(CalmFile, "calm");
        await using var server = await VmPoolerServer.StartAsync(Yaml, VmPoolerRole.All, output: output);
        await WaitForAsync(server, "healthy");
        var healthy = await HealthAsync(server);
        healthy["enabled"]!.GetValue<bool>().ShouldBeTrue();
        healthy["reasons"]!.AsArray().ShouldBeEmpty();
        healthy["pools"]!["p"]!["dlq"]!.GetValue<int>().ShouldBe(0);
        (await server.GetAsync("readyz")).Status.ShouldBe(HttpStatusCode.OK);
        // Health can be "healthy" before the pool has filled: the two checkouts below need both VMs ready.
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.Inventory.GetCountsAsync(["p"], CancellationToken.None))["p"].Ready == 2, "the pool is full", Deadline);

        File.Delete(CalmFile);
        (await server.PostAsync("api/v3/vm/p")).ShouldBeJson(HttpStatusCode.OK);
        (await server.PostAsync("api/v3/vm/p")).ShouldBeJson(HttpStatusCode.OK);
        await WaitForAsync(server, "unhealthy");
        var unhealthy = await HealthAsync(server);
        unhealthy["reasons"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldContain(r => r.StartsWith("dead-letter queue: ", StringComparison.Ordinal) && r.EndsWith("(critical)", StringComparison.Ordinal));
        unhealthy["totals"]!["dlq"]!.GetValue<int>().ShouldBeGreaterThan(3);
        await AsyncTestHelpers.WaitUntilAsync(async () => (await server.GetAsync("readyz")).Status == HttpStatusCode.ServiceUnavailable, "/readyz says not ready", Deadline);

        await File.WriteAllTextAsync(CalmFile, "calm");
        await WaitForAsync(server, "healthy");
        (await server.GetAsync("readyz")).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Health_Disabled_UnknownAndSaysWhy()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml.Replace("health_check_enabled: true", "health_check_enabled: false", StringComparison.Ordinal), VmPoolerRole.All, output: output);

        var health = await HealthAsync(server);

        health["enabled"]!.GetValue<bool>().ShouldBeFalse();
        health["status"]!.GetValue<string>().ShouldBe("unknown");
        health["message"]!.GetValue<string>().ShouldContain("health_check_enabled");
    }
}
