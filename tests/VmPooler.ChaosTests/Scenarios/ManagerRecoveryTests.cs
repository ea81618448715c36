using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using VmPooler.ChaosTests.Fixtures;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.MultiProcess;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.ChaosTests.Scenarios;

/// <summary>
/// Recovery of the pool manager (issue 13) while clients churn through two API processes on one Redis:
/// <list type="bullet">
/// <item>one manager killed with SIGKILL 3 s after each start (counted from when its host is up) and started again at once;</item>
/// <item>three managers, one of them killed every 10 s (each in turn) and started again.</item>
/// </list>
/// Both check that refills go on during the loop (VMs that became ready, counted from what the clients were handed), that
/// no VM is handed out twice or destroyed while held (<see cref="ChurnLoad"/>), and at the end that every pool is exactly
/// full with nothing leaked and nothing lost (phantoms). <see cref="ManagerRestart.DropDeadLease"/> is the form today's
/// single-lease manager passes; <see cref="ManagerRestart.SameManagerId"/> waits for the second generation
/// (<see cref="ManagerV2.Pending"/>). Bounded by default; <c>VMPOOLER_CHAOS_SCALE=full</c> runs a minute or more.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ManagerRecoveryTests(ITestOutputHelper output)
{
    private static readonly TimeSpan KillLoop = ChaosScale.Full ? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(24);

    private static readonly TimeSpan ThreeManagerLoop = ChaosScale.Full ? TimeSpan.FromSeconds(90) : TimeSpan.FromSeconds(30);

    private static ChaosDeployment.Settings Settings(ManagerRestart restart, string[] pools, int size) => new()
    {
        Pools = pools,
        PoolSize = size,
        // Today's manager replaces a dead clone's pending VM only after the pool timeout; the second generation must
        // recognise it through the provider (state_dir) at once, so its form keeps a timeout longer than the test.
        PendingTimeoutMinutes = restart == ManagerRestart.DropDeadLease ? 0.1 : 5,
        ProviderLines = """
            createvm_min_time: 0.02
            createvm_max_time: 0.3
            boot_min_time: 0.01
            boot_max_time: 0.1
            destroyvm_max_time: 0.1
            createvm_fail_percent: 5
            """,
        ConfigLines = """
            task_limit: 20
            check_loop_delay_min: 0.05
            check_loop_delay_max: 0.5
            vm_checktime: 0.05
            manager_lease_ttl: 3
            """,
    };

    [Theory]
    [InlineData(ManagerRestart.DropDeadLease)]
    [InlineData(ManagerRestart.SameManagerId, Skip = ManagerV2.Pending)]
    public async Task ManagerKilledEvery3s_RestartedAtOnce_RefillsContinueNothingHandedTwiceNothingLeaked(ManagerRestart restart)
    {
        output.WriteLine($"scale {ChaosScale.Name}, seed {ChaosScale.Seed}, restart {restart}, loop {KillLoop.TotalSeconds:0} s");
        await using var chaos = await ChaosDeployment.StartAsync(output, Settings(restart, ["alpha", "bravo", "charlie"], 8));
        string[] id = restart == ManagerRestart.SameManagerId ? ["--manager-id", "chaos-manager"] : [];
        var managers = new List<VmPoolerProcess> { chaos.Deployment.StartManager("manager-0", id) };
        var apis = await ScenarioSteps.StartApisAsync(chaos, 2);
        await ScenarioSteps.WaitFullAndIdleAsync(apis[0].Client);

        var readyAtStart = await ReadyNamesAsync(chaos);
        using var load = new ChurnLoad(chaos, [.. apis.Select(a => a.BaseAddress!)], ChaosScale.Seed, TimeSpan.FromMilliseconds(150));
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(12, stop.Token, TimeSpan.FromSeconds(60));
        var loopStart = load.Elapsed;
        var restarts = new List<TimeSpan> { loopStart };
        var startups = new List<TimeSpan>();
        while (load.Elapsed - loopStart < KillLoop && load.Violations.Count == 0)
        {
            // 3 s of life from when the host is up: on a loaded 2-core machine starting .NET alone can take longer than
            // 3 s, and a kill before the manager runs at all would measure the start-up, not the manager's recovery.
            var up = await UpAsync(managers[^1], load.Elapsed - restarts[^1]);
            if (managers.Count > 1)
            {
                startups.Add(up);
            }

            await Task.Delay(TimeSpan.FromSeconds(3), TimeProvider.System);
            await chaos.Deployment.KillAsync(managers[^1]);
            if (restart == ManagerRestart.DropDeadLease)
            {
                await chaos.DropDeadManagerLeaseAsync();
            }

            managers.Add(chaos.Deployment.StartManager($"manager-{managers.Count}", id));
            restarts.Add(load.Elapsed);
        }

        var loopEnd = load.Elapsed;
        var refills = RefillCount.From(load.HandedOut, readyAtStart, await ReadyNamesAsync(chaos), loopStart, loopEnd, restarts);
        await stop.CancelAsync();
        await running.DefaultTimeout(TimeSpan.FromSeconds(90));
        output.WriteLine($"kill loop: {managers.Count - 1} SIGKILLs over {(loopEnd - loopStart).TotalSeconds:0.0} s, each 3 s after the host was up "
            + $"(restart to up: median {Median(startups):0.0} s, max {startups.DefaultIfEmpty().Max().TotalSeconds:0.0} s); {refills}");
        output.WriteLine($"load during the kills: {load.Figures()}");
        var leaks = await ScenarioSteps.SettleAndCheckLeaksAsync(chaos, apis[0].Client, managers[^1], output);

        load.Violations.ShouldHaveNone("invariant violations during the kill loop");
        leaks.ShouldHaveNone("leak check after the kill loop");
        ShouldHaveRefilled(refills, restart);
    }

    [Theory]
    [InlineData(ManagerRestart.DropDeadLease)]
    [InlineData(ManagerRestart.SameManagerId, Skip = ManagerV2.Pending)]
    public async Task ThreeManagers_OneKilledEvery10s_RefillsContinueNothingHandedTwiceNothingLeaked(ManagerRestart restart)
    {
        output.WriteLine($"scale {ChaosScale.Name}, seed {ChaosScale.Seed}, restart {restart}, loop {ThreeManagerLoop.TotalSeconds:0} s");
        string[] pools = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"];
        await using var chaos = await ChaosDeployment.StartAsync(output, Settings(restart, pools, 5));
        var managers = Enumerable.Range(0, 3).Select(i => chaos.Deployment.StartManager($"manager-{i}", ManagerId(restart, i))).ToArray();
        var killed = new List<VmPoolerProcess>();
        var apis = await ScenarioSteps.StartApisAsync(chaos, 2);
        await ScenarioSteps.WaitFullAndIdleAsync(apis[0].Client);
        await ShouldSplitPoolsAsync(restart, apis[0].Client, pools);

        var readyAtStart = await ReadyNamesAsync(chaos);
        using var load = new ChurnLoad(chaos, [.. apis.Select(a => a.BaseAddress!)], ChaosScale.Seed, TimeSpan.FromMilliseconds(150));
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(12, stop.Token, TimeSpan.FromSeconds(60));
        var loopStart = load.Elapsed;
        var restarts = new List<TimeSpan> { loopStart };
        var leaseHolderKills = 0;
        for (var kill = 0; load.Elapsed - loopStart < ThreeManagerLoop && load.Violations.Count == 0; kill++)
        {
            await Task.Delay(TimeSpan.FromSeconds(10), TimeProvider.System);
            var victim = kill % managers.Length;
            leaseHolderKills += await KillAsync(chaos, managers[victim], restart) ? 1 : 0;
            killed.Add(managers[victim]);
            managers[victim] = chaos.Deployment.StartManager($"manager-{victim}-{kill + 1}", ManagerId(restart, victim));
            restarts.Add(load.Elapsed);
        }

        var loopEnd = load.Elapsed;
        var refills = RefillCount.From(load.HandedOut, readyAtStart, await ReadyNamesAsync(chaos), loopStart, loopEnd, restarts);
        await stop.CancelAsync();
        await running.DefaultTimeout(TimeSpan.FromSeconds(90));
        output.WriteLine($"three managers: {killed.Count} SIGKILLs over {(loopEnd - loopStart).TotalSeconds:0.0} s "
            + $"({(restart == ManagerRestart.DropDeadLease ? $"{leaseHolderKills} of the lease holder" : "each owning pools")}); {refills}");
        output.WriteLine($"load during the kills: {load.Figures()}");
        await ShouldSplitPoolsAsync(restart, apis[0].Client, pools);
        var leaks = await ScenarioSteps.SettleAndCheckLeaksAsync(chaos, apis[0].Client, managers, output);

        load.Violations.ShouldHaveNone("invariant violations while managers were killed");
        leaks.ShouldHaveNone("leak check after the kills");
        ShouldHaveRefilled(refills, restart);
    }

    /// <summary>Waits until the process's host has started (its own log line); returns the time from its start.</summary>
    private static async Task<TimeSpan> UpAsync(VmPoolerProcess manager, TimeSpan sinceStart)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await manager.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(60));
        return sinceStart + clock.Elapsed;
    }

    private static double Median(List<TimeSpan> values) => values.Count == 0 ? double.NaN : values.Order().ElementAt(values.Count / 2).TotalSeconds;

    private static string[] ManagerId(ManagerRestart restart, int index)
        => restart == ManagerRestart.SameManagerId ? ["--manager-id", "chaos-manager-" + index.ToString(CultureInfo.InvariantCulture)] : [];

    private static async Task<HashSet<string>> ReadyNamesAsync(ChaosDeployment chaos)
        => (await chaos.InventoryVmsAsync()).Where(v => v.State == "ready").Select(v => v.Vm).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// SIGKILLs a manager; with today's single lease, drops the lease when the dead process held it (its value is
    /// <c>host:pid:guid</c>). Returns whether it did.
    /// </summary>
    private static async Task<bool> KillAsync(ChaosDeployment chaos, VmPoolerProcess manager, ManagerRestart restart)
    {
        var pid = manager.Id;
        await chaos.Deployment.KillAsync(manager);
        if (restart != ManagerRestart.DropDeadLease)
        {
            return false;
        }

        var holder = (await chaos.Redis.CliAsync("get", $"{chaos.Deployment.KeyPrefix}:{{manager}}:lease")).Trim();
        if (holder.Split(':') is [_, var holderPid, _] && holderPid == pid.ToString(CultureInfo.InvariantCulture))
        {
            await chaos.DropDeadManagerLeaseAsync();
            return true;
        }

        return false;
    }

    /// <summary>
    /// The second generation only: <c>GET /api/v3/managers</c> lists three live managers and every pool owned by exactly
    /// one of them (waiting for a restarted manager to register and the pools to be rebalanced).
    /// </summary>
    private async Task ShouldSplitPoolsAsync(ManagerRestart restart, HttpClient api, string[] pools)
    {
        if (restart != ManagerRestart.SameManagerId)
        {
            return;
        }

        var last = "no answer yet";
        await VmPoolerDeployment.WaitUntilAsync(
            async () =>
            {
                var answer = await VmPoolerServer.SendAsync(api, HttpMethod.Get, "api/v3/managers");
                last = $"{(int)answer.Status} {answer.Body}";
                var managers = answer.Status == HttpStatusCode.OK ? answer.Object["managers"]?.AsArray() : null;
                var owned = managers?.SelectMany(m => m?["pools"]?.AsArray() ?? []).Select(p => p!.GetValue<string>()).ToList();
                return managers?.Count == 3 && owned is not null && owned.Count == pools.Length && owned.ToHashSet().SetEquals(pools);
            },
            () => $"three managers own every pool once (last: {last})",
            TimeSpan.FromSeconds(60));
        output.WriteLine($"managers: {last}");
    }

    /// <summary>
    /// Refills must go on during the loop. Today's manager (with the test dropping its lease) must refill at all; the
    /// second generation, which resumes at once, must refill in every third of the loop.
    /// </summary>
    private static void ShouldHaveRefilled(RefillCount refills, ManagerRestart restart)
    {
        refills.Total.ShouldBeGreaterThan(0, $"no VM became ready during the loop: {refills}");
        if (restart == ManagerRestart.SameManagerId)
        {
            refills.HandedOutPerThird.ShouldAllBe(n => n > 0, $"a third of the loop saw no refill: {refills}");
        }
    }
}
