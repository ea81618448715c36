using System.Diagnostics;
using System.Net;
using VmPooler.ChaosTests.Fixtures;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.MultiProcess;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.ChaosTests.Scenarios;

/// <summary>
/// Provider outage (issue 9): the provider fails every call for a while (bounded 6 s, full 30 s). The manager backs off
/// (the calls it makes meanwhile are counted and bounded by the back-off schedule, not by time), the API keeps serving
/// the ready VMs, and the pools refill once the provider is back, with nothing leaked.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ProviderOutageTests(ITestOutputHelper output)
{
    private const int PoolSize = 8;
    private const double LoopDelayMax = 1;

    private static readonly string[] Pools = ["alpha", "bravo"];

    [Fact]
    public async Task ProviderFailsEveryCall_ManagerBacksOffApiServesReadyVmsPoolsRefillAfter()
    {
        output.WriteLine($"scale {ChaosScale.Name}, outage {ChaosScale.ProviderOutage.TotalSeconds:0} s");
        await using var chaos = await ChaosDeployment.StartAsync(output, new ChaosDeployment.Settings
        {
            Pools = Pools,
            PoolSize = PoolSize,
            ProviderLines = """
                createvm_min_time: 0.05
                createvm_max_time: 0.2
                boot_min_time: 0.05
                boot_max_time: 0.2
                """,
            ConfigLines = $"""
                task_limit: 10
                check_loop_delay_min: 0.1
                check_loop_delay_max: {LoopDelayMax}
                vm_checktime: 0.02
                """,
        });
        var manager = chaos.Deployment.StartManager("manager");
        var api = await chaos.Deployment.StartApiAsync("api");
        await ScenarioSteps.WaitFullAndIdleAsync(api.Client);

        chaos.StartProviderOutage();
        var outage = Stopwatch.StartNew();

        // The API keeps serving ready VMs: half of each pool is checked out during the outage and given back.
        var handedOut = new List<string>();
        foreach (var pool in Pools)
        {
            for (var i = 0; i < PoolSize / 2; i++)
            {
                var answer = await api.SendAsync(HttpMethod.Post, $"api/v3/vm/{pool}");
                answer.Status.ShouldBe(HttpStatusCode.OK, $"checkout from {pool} during the provider outage: {answer.Body}");
                handedOut.Add(answer.Object[pool]!["hostname"]!.GetValue<string>());
            }
        }

        handedOut.Distinct(StringComparer.Ordinal).Count().ShouldBe(handedOut.Count, "no VM handed out twice");
        foreach (var vm in handedOut)
        {
            (await api.SendAsync(HttpMethod.Delete, $"api/v3/vm/{vm}")).Status.ShouldBe(HttpStatusCode.OK);
        }

        var remaining = ChaosScale.ProviderOutage - outage.Elapsed;
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, TimeProvider.System);
        }

        var calls = chaos.ProviderOutageCalls();
        var seconds = outage.Elapsed.TotalSeconds;
        var during = await VmPoolerDeployment.ReadStatusAsync(api.Client);
        chaos.EndProviderOutage();
        var refill = await ScenarioSteps.WaitFullAndIdleAsync(api.Client);

        // Without back-off a pass per pool every check_loop_delay_min (0.1 s), each with a listing and clone attempts,
        // would make well over 10 calls per pool per second. The back-off schedule (min × 2^n up to max = 1 s) allows about
        // one pass per pool per second, plus the ramp; each failed pass stops at its first failed call (the listing),
        // with a few destroy attempts for the returned VMs. Twice that is the bound.
        var bound = Pools.Length * (int)Math.Ceiling(2 * ((seconds / LoopDelayMax) + 10)) + handedOut.Count * 3;
        output.WriteLine($"provider outage {seconds:0.0} s: {calls} provider calls failed ({calls / seconds:0.0}/s, {calls / seconds / Pools.Length:0.0}/s per pool; bound {bound}); "
            + $"{handedOut.Count} checkouts served meanwhile; at the end of the outage: {during}");
        output.WriteLine($"pools full again {refill.TotalSeconds:0.0} s after the provider came back");
        var leaks = await ScenarioSteps.SettleAndCheckLeaksAsync(chaos, api.Client, manager, output);

        calls.ShouldBeGreaterThan(0, "the manager did try the provider during the outage");
        calls.ShouldBeLessThanOrEqualTo(bound, "the manager backs off a provider that keeps failing");
        leaks.ShouldHaveNone("leak check after the provider outage");
    }
}
