using VmPooler.ChaosTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.ChaosTests.Scenarios;

/// <summary>
/// Churn (issue 9): 4 API processes and 1 manager on one real redis-server; the dummy provider clones and boots with
/// random delays and fails 20 % of clones, 10 % of ready checks and 5 % of destroys; 64 clients check VMs out, hold
/// them for a random time and return them. Invariants are checked continuously by the clients (see
/// <see cref="ChurnLoad"/>) and at the end against the provider's VMs.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ChurnTests(ITestOutputHelper output)
{
    public static readonly string[] Pools = ["alpha", "bravo", "charlie", "delta"];

    internal static ChaosDeployment.Settings Settings(string[]? redisArguments = null) => new()
    {
        Pools = Pools,
        PoolSize = 16,
        ProviderLines = """
            createvm_min_time: 0.01
            createvm_max_time: 0.2
            boot_min_time: 0.01
            boot_max_time: 0.2
            destroyvm_max_time: 0.05
            createvm_fail_percent: 20
            vmready_fail_percent: 10
            destroyvm_fail_percent: 5
            """,
        ConfigLines = """
            task_limit: 40
            check_loop_delay_min: 0.05
            check_loop_delay_max: 0.5
            vm_checktime: 0.02
            """,
        RedisArguments = redisArguments ?? [],
    };

    [Fact]
    public async Task Churn_FourApisAndInjectedFaults_NoVmHandedTwiceNoneDestroyedWhileHeldNothingLeaked()
    {
        output.WriteLine($"scale {ChaosScale.Name}, seed {ChaosScale.Seed}");
        await using var chaos = await ChaosDeployment.StartAsync(output, Settings());
        var manager = chaos.Deployment.StartManager("manager");
        var apis = await ScenarioSteps.StartApisAsync(chaos, 4);
        var filled = await ScenarioSteps.WaitFullAndIdleAsync(apis[0].Client);
        output.WriteLine($"4 API processes + 1 manager; pools {string.Join(", ", Pools)} of 16 filled in {filled.TotalSeconds:0.0} s");

        using var load = new ChurnLoad(chaos, [.. apis.Select(a => a.BaseAddress!)], ChaosScale.Seed, TimeSpan.FromMilliseconds(300));
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(64, stop.Token, TimeSpan.FromSeconds(60));
        var nextReport = TimeSpan.FromSeconds(10);
        while (load.Checkouts < ChaosScale.ChurnCheckouts && load.Elapsed < ChaosScale.ChurnTimeCap && load.Violations.Count == 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
            chaos.Deployment.ShouldAllBeRunning();
            if (load.Elapsed > nextReport)
            {
                output.WriteLine($"  {load.Figures()}");
                nextReport += ChaosScale.Full ? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(10);
            }
        }

        await stop.CancelAsync();
        await running.DefaultTimeout(TimeSpan.FromSeconds(90));
        output.WriteLine($"churn: {load.Figures()}");
        output.WriteLine($"faults injected: {string.Join(", ", ScenarioSteps.InjectedFaults([manager]).Select(f => $"{f.Key} {f.Value}"))}");

        var leaks = await ScenarioSteps.SettleAndCheckLeaksAsync(chaos, apis[0].Client, manager, output);

        load.Violations.ShouldHaveNone("invariant violations during churn");
        leaks.ShouldHaveNone("leak check at the end");
        load.Checkouts.ShouldBeGreaterThan(100, "the churn actually churned");
        load.Held.ShouldBe(0);
    }
}
