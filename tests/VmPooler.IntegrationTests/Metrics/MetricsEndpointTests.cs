using System.Globalization;
using System.Net;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Metrics;

/// <summary>
/// <c>/prometheus</c>, <c>/healthcheck</c>, <c>/healthz</c> and <c>/readyz</c> over real HTTP, with the pool manager
/// filling dummy pools (spec §2.9, §8).
/// </summary>
public sealed class MetricsEndpointTests(ITestOutputHelper output)
{
    /// <summary>Dummy pools <c>metpool</c> (size 2) and <c>other</c> (size 1) with tiny delays; <paramref name="extra"/> is appended.</summary>
    public static string Yaml(string extra = "") => """
        ---
        :providers:
          :dummy:
            createvm_min_time: 0.01
            createvm_max_time: 0.03
            boot_min_time: 0.01
            boot_max_time: 0.03
        :config:
          check_loop_delay_min: 0.1
          check_loop_delay_max: 0.5
          check_loop_delay_decay: 2.0
        :pools:
          - name: 'metpool'
            size: 2
          - name: 'other'
            size: 1
        """ + "\n" + extra;

    public const string Prometheus = """
        :prometheus:
          prefix: 'itest'
        """;

    /// <summary>Scrapes and parses (every line must parse).</summary>
    public static async Task<PrometheusText> ScrapeAsync(HttpClient client, string path = "/prometheus")
    {
        using var response = await client.GetAsync(path).DefaultTimeout();
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType.ShouldNotBeNull().ToString().ShouldStartWith("text/plain; version=0.0.4");
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout());
    }

    /// <summary>Polls the endpoint until <paramref name="condition"/> holds.</summary>
    public static async Task<PrometheusText> ScrapeUntilAsync(HttpClient client, Func<PrometheusText, bool> condition, string because, string path = "/prometheus")
    {
        PrometheusText? last = null;
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                last = await ScrapeAsync(client, path);
                return condition(last);
            },
            because);
        return last!;
    }

    [Fact]
    public async Task Prometheus_MemoryInventory_PoolGaugesAndCheckoutCounter()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml(Prometheus), VmPoolerRole.All, output: output);

        var filled = await ScrapeUntilAsync(
            server.Client, m => m.Value("vmpooler_ready", ("pool", "metpool")) == 2 && m.Value("vmpooler_ready", ("pool", "other")) == 1, "pools filled");
        filled.Types["vmpooler_ready"].ShouldBe("gauge");
        filled.Types["vmpooler_clone"].ShouldBe("histogram");
        filled.Value("vmpooler_size", ("pool", "metpool")).ShouldBe(2);
        filled.Value("vmpooler_ready", ("pool", "metpool"), ("vmpooler_instance", "itest")).ShouldBe(2);
        filled.Value("vmpooler_clone_count", ("pool", "metpool")).ShouldNotBeNull().ShouldBeGreaterThanOrEqualTo(2);

        // 3.8/3.9 names beside the older ones (issue 14): vmpooler_clone.<pool> as a gauge, provider breakers.
        filled.Types["vmpooler_vmpooler_clone"].ShouldBe("gauge");
        filled.Value("vmpooler_vmpooler_clone", ("pool", "metpool")).ShouldNotBeNull().ShouldBeGreaterThanOrEqualTo(0);
        filled.Value("vmpooler_circuit_breaker", ("provider", "dummy"), ("stat", "state")).ShouldBe(0);
        filled.Value("vmpooler_adaptive_timeout", ("provider", "dummy"), ("stat", "current")).ShouldNotBeNull().ShouldBeGreaterThanOrEqualTo(5);

        (await server.PostAsync("/api/v3/vm/metpool")).Status.ShouldBe(HttpStatusCode.OK);
        (await server.PostAsync("/api/v3/vm/nosuchpool")).Status.ShouldBe(HttpStatusCode.NotFound);

        var after = await ScrapeUntilAsync(server.Client, m => m.Value("vmpooler_running", ("pool", "metpool")) == 1, "the checkout shows as running");
        after.Value("vmpooler_checkout", ("result", "success"), ("pool", "metpool")).ShouldBe(1);
        after.Value("vmpooler_checkout", ("result", "invalid"), ("pool", "unknown")).ShouldBe(1);
        after.Value("vmpooler_pending", ("pool", "metpool")).ShouldNotBeNull();
        after.Value("vmpooler_http_requests_vm_total", ("method", "get"), ("subpath", "vm"), ("operation", "template")).ShouldBe(2);
        after.Value("vmpooler_http_requests_total", ("code", "200"), ("method", "POST"), ("path", "/api/v3/vm/:id")).ShouldBe(1);
        after.Value("vmpooler_http_request_duration_seconds_count", ("method", "POST"), ("path", "/api/v3/vm/:id")).ShouldBe(2);
    }

    [Fact]
    public async Task Prometheus_CustomPrefixAndEndpoint_ServedThereOnly()
    {
        await using var server = await VmPoolerServer.StartAsync(
            Yaml(":prometheus:\n  prefix: 'blue'\n  prometheus_prefix: 'vmp'\n  prometheus_endpoint: '/metrics'\n"), VmPoolerRole.All, output: output);

        var metrics = await ScrapeUntilAsync(server.Client, m => m.Value("vmp_ready", ("pool", "metpool"), ("vmpooler_instance", "blue")) == 2, "pools filled", "/metrics");

        metrics.Samples.ShouldNotContain(s => s.Name.StartsWith("vmpooler_", StringComparison.Ordinal));
        (await server.GetAsync("/prometheus")).Status.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Health_AllRole_HealthzReadyzAndHealthcheck()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml(Prometheus), VmPoolerRole.All, output: output);

        var healthz = await server.GetAsync("/healthz");
        healthz.Status.ShouldBe(HttpStatusCode.OK);
        healthz.Json["ok"]!.GetValue<bool>().ShouldBeTrue();

        await AsyncTestHelpers.WaitUntilAsync(async () => (await server.GetAsync("/readyz")).Status == HttpStatusCode.OK, "the manager finished a pass");
        var readyz = await server.GetAsync("/readyz");
        readyz.Json["checks"]!["inventory"]!["status"]!.GetValue<string>().ShouldBe("Healthy");
        readyz.Json["checks"]!["manager"]!["status"]!.GetValue<string>().ShouldBe("Healthy");

        var healthcheck = await server.GetAsync("/healthcheck");
        healthcheck.Status.ShouldBe(HttpStatusCode.OK);
        healthcheck.Json["ok"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task Health_WithoutPrometheus_NoExpositionNorHealthcheckButHealthz()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml(), VmPoolerRole.Api, output: output);

        (await server.GetAsync("/prometheus")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await server.GetAsync("/healthcheck")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await server.GetAsync("/healthz")).Status.ShouldBe(HttpStatusCode.OK);
        var readyz = await server.GetAsync("/readyz");
        readyz.Status.ShouldBe(HttpStatusCode.OK);
        readyz.Json["checks"]!.AsObject().Select(c => c.Key).ShouldBe(["inventory"]);
    }

    internal static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
