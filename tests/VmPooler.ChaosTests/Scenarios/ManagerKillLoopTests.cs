using System.Diagnostics;
using System.Text.RegularExpressions;
using VmPooler.ChaosTests.Fixtures;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.MultiProcess;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.ChaosTests.Scenarios;

/// <summary>
/// Manager kill loop (issue 9): under churn with injected faults, the manager is killed with SIGKILL at random moments
/// (some while clones are in flight, some while completed VMs wait for or are in their destroy) and a new one started
/// each time. The provider's VMs outlive each manager (<c>state_dir</c>), so a half-made clone or an interrupted destroy
/// stays behind for the next manager to find. Afterwards the pools are exactly at size and nothing is leaked or lost.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed partial class ManagerKillLoopTests(ITestOutputHelper output)
{
    private static readonly string[] Pools = ["alpha", "bravo"];

    private static ChaosDeployment.Settings Settings => new()
    {
        Pools = Pools,
        PoolSize = 8,
        PendingTimeoutMinutes = 0.1,
        ProviderLines = """
            createvm_min_time: 0.1
            createvm_max_time: 1.0
            boot_min_time: 0.05
            boot_max_time: 0.3
            destroyvm_max_shutdown_time: 0.3
            destroyvm_max_time: 0.5
            createvm_fail_percent: 20
            vmready_fail_percent: 10
            destroyvm_fail_percent: 5
            """,
        ConfigLines = """
            task_limit: 10
            check_loop_delay_min: 0.05
            check_loop_delay_max: 0.5
            vm_checktime: 0.02
            """,
    };

    [Fact]
    public async Task ManagerKilledAtRandomMoments_RestartedEachTime_PoolsExactlyAtSizeNothingLeaked()
    {
        var random = new Random(ChaosScale.Seed);
        output.WriteLine($"scale {ChaosScale.Name}, seed {ChaosScale.Seed}, {ChaosScale.ManagerKills} kills");
        await using var chaos = await ChaosDeployment.StartAsync(output, Settings);
        var managers = new List<VmPoolerProcess> { chaos.Deployment.StartManager("manager-0") };
        var apis = await ScenarioSteps.StartApisAsync(chaos, 2);
        await ScenarioSteps.WaitFullAndIdleAsync(apis[0].Client);

        using var load = new ChurnLoad(chaos, [.. apis.Select(a => a.BaseAddress!)], ChaosScale.Seed, TimeSpan.FromMilliseconds(200));
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(12, stop.Token, TimeSpan.FromSeconds(60));
        int midClone = 0, midDestroy = 0;
        var takeovers = new List<TimeSpan>();
        for (var kill = 0; kill < ChaosScale.ManagerKills && load.Violations.Count == 0; kill++)
        {
            var manager = managers[^1];
            var started = Stopwatch.StartNew();
            await manager.WaitForOutputAsync("Manager lease acquired", TimeSpan.FromSeconds(60));
            takeovers.Add(started.Elapsed);
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(100, 1500)), TimeProvider.System);

            // What is in flight at the kill: clones (VMs the provider is still making) and destroys (completed VMs).
            var cloning = chaos.ProviderVms().Count(v => v.ClonedAt is null);
            var completed = (await VmPoolerDeployment.TryReadStatusAsync(apis[0].Client))?.Completed ?? 0;
            await chaos.Deployment.KillAsync(manager);
            midClone += cloning > 0 ? 1 : 0;
            midDestroy += completed > 0 ? 1 : 0;
            await chaos.DropDeadManagerLeaseAsync();
            managers.Add(chaos.Deployment.StartManager($"manager-{kill + 1}"));
            if (ChaosScale.Full && kill % 20 == 19)
            {
                output.WriteLine($"  {kill + 1} kills; {load.Figures()}");
            }
        }

        await stop.CancelAsync();
        await running.DefaultTimeout(TimeSpan.FromSeconds(90));
        var final = managers[^1];
        var discovered = managers.Sum(m => Discovered().Matches(m.StandardOutput).Count);
        var leaks = await ScenarioSteps.SettleAndCheckLeaksAsync(chaos, apis[0].Client, final, output);
        output.WriteLine($"kill loop: {managers.Count - 1} SIGKILLs ({midClone} with clones in flight, {midDestroy} with completed VMs awaiting or in their destroy); "
            + $"takeover (start to lease) median {takeovers.Order().ElementAt(takeovers.Count / 2).TotalSeconds:0.0} s, max {takeovers.Max().TotalSeconds:0.0} s; "
            + $"{discovered} VMs found in the provider but not the inventory and destroyed");
        output.WriteLine($"load during the kills: {load.Figures()}");
        output.WriteLine($"faults injected: {string.Join(", ", ScenarioSteps.InjectedFaults(managers).Select(f => $"{f.Key} {f.Value}"))}");

        load.Violations.ShouldHaveNone("invariant violations during the kill loop");
        leaks.ShouldHaveNone("leak check after the kill loop");
        (managers.Count - 1).ShouldBe(ChaosScale.ManagerKills);
        midClone.ShouldBeGreaterThan(0, "some kills landed while clones were in flight");
        midDestroy.ShouldBeGreaterThan(0, "some kills landed while completed VMs awaited or were in their destroy");
    }

    [GeneratedRegex(@"found in the provider but not in the inventory")]
    private static partial Regex Discovered();
}
