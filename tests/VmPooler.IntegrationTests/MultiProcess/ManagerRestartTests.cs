using System.Diagnostics;
using System.Text.RegularExpressions;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.MultiProcess;

/// <summary>
/// Issue 3, "restart": the pool manager killed with SIGKILL in the middle of filling the pools, and a new one started
/// on the same Redis, converges to exactly <c>size</c> ready VMs (no over-cloning); and of two managers started at
/// once only one manages (the other stands by), so the pools never exceed their size.
/// </summary>
/// <remarks>
/// The dummy provider keeps its VMs in the manager's memory, so the killed manager's VMs die with it: the new manager
/// finds the inventory's pending and ready VMs missing from its provider, drops them and clones replacements. It first
/// waits for the killed manager's lease to run out (up to 15 s).
/// </remarks>
[Collection(MultiProcessCollection.Name)]
public sealed partial class ManagerRestartTests(ITestOutputHelper output)
{
    private const int PoolSize = 10;

    private static readonly string[] Pools = ["alpha", "bravo"];

    /// <summary>Lease expiry (15 s) plus the refill, with room for a slow CI machine.</summary>
    private static readonly TimeSpan ConvergenceDeadline = TimeSpan.FromSeconds(45);

    /// <summary>How long the pools are watched once they have converged.</summary>
    private static readonly TimeSpan WatchAfterConvergence = TimeSpan.FromSeconds(4);

    private static string Yaml => $"""
        :providers:
          :dummy:
            createvm_min_time: 0.5
            createvm_max_time: 1.5
        :config:
          task_limit: 4
          check_loop_delay_min: 0.1
          check_loop_delay_max: 1
        :pools:
        {string.Concat(Pools.Select(p => $"  - name: '{p}'\n    size: {PoolSize}\n    provider: dummy\n"))}
        """;

    [Fact]
    public async Task ManagerKilledMidFill_NewManagerStarted_PoolsConvergeToExactlyTheirSize()
    {
        await using var deployment = await VmPoolerDeployment.StartAsync(output, Yaml);
        var api = await deployment.StartApiAsync("api");
        var first = deployment.StartManager("manager-1");

        // Kill it while clones are in flight and some VMs are already ready.
        StatusFigures? atKill = null;
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (atKill = await VmPoolerDeployment.TryReadStatusAsync(api.Client)) is { } s
                && s.Pools.Values.Sum(p => p.Pending) > 0 && s.Pools.Values.Sum(p => p.Ready) > 0,
            "the first manager is mid-fill (VMs both pending and ready)",
            TimeSpan.FromSeconds(30));
        await deployment.KillAsync(first);
        var afterKill = await VmPoolerDeployment.ReadStatusAsync(api.Client);
        output.WriteLine($"manager-1 killed (SIGKILL) mid-fill: {atKill}; just after: {afterKill}");
        afterKill.Pools.Values.Sum(p => p.Pending).ShouldBeGreaterThan(0, "the kill landed while VMs were pending");

        var restart = Stopwatch.StartNew();
        var second = deployment.StartManager("manager-2");
        var watch = new PoolWatch();
        StatusFigures? last = null;
        await VmPoolerDeployment.WaitUntilAsync(
            async () =>
            {
                last = await VmPoolerDeployment.TryReadStatusAsync(api.Client);
                watch.Observe(last, restart.Elapsed);
                return last is not null && last.Pools.Values.All(p => p.Ready == PoolSize && p.Pending == 0);
            },
            () => $"every pool has exactly {PoolSize} ready and none pending after the restart (last: {last})",
            ConvergenceDeadline);
        var converged = restart.Elapsed;
        output.WriteLine($"converged {converged.TotalSeconds:0.0} s after manager-2 started: {last}");

        // Stays exactly there.
        var after = Stopwatch.StartNew();
        while (after.Elapsed < WatchAfterConvergence)
        {
            last = await VmPoolerDeployment.ReadStatusAsync(api.Client);
            watch.Observe(last, restart.Elapsed);
            last.Pools.Values.ShouldAllBe(p => p.Ready == PoolSize && p.Pending == 0, $"after convergence: {last}");
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }

        output.WriteLine($"{watch}");
        watch.MostReady.ShouldBeLessThanOrEqualTo(PoolSize, "a pool never holds more ready VMs than its size");
        watch.MostReadyAndPending.ShouldBeLessThanOrEqualTo(PoolSize, "ready + pending never exceeds the size (no over-cloning)");
        second.StandardOutput.ShouldContain("Manager lease acquired");
        var clones = Cloned().Matches(second.StandardOutput).Count;
        output.WriteLine($"manager-2 cloned {clones} VMs");
        deployment.ShouldAllBeRunning();
    }

    [Fact]
    public async Task TwoManagersStartedAtOnce_OnlyOneClones_PoolsNeverExceedTheirSize()
    {
        await using var deployment = await VmPoolerDeployment.StartAsync(output, Yaml);
        var api = await deployment.StartApiAsync("api");
        VmPoolerProcess[] managers = [deployment.StartManager("manager-a"), deployment.StartManager("manager-b")];

        var started = Stopwatch.StartNew();
        var watch = new PoolWatch();
        StatusFigures? last = null;
        await VmPoolerDeployment.WaitUntilAsync(
            async () =>
            {
                last = await VmPoolerDeployment.TryReadStatusAsync(api.Client);
                watch.Observe(last, started.Elapsed);
                return last is not null && last.Pools.Values.All(p => p.Ready == PoolSize && p.Pending == 0);
            },
            () => $"every pool has exactly {PoolSize} ready and none pending (last: {last})",
            TimeSpan.FromSeconds(30));
        output.WriteLine($"filled in {started.Elapsed.TotalSeconds:0.0} s: {last}");

        var after = Stopwatch.StartNew();
        while (after.Elapsed < WatchAfterConvergence)
        {
            last = await VmPoolerDeployment.ReadStatusAsync(api.Client);
            watch.Observe(last, started.Elapsed);
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }

        // Exactly one holds the lease and clones; the other says it stands by and clones nothing.
        await AsyncTestHelpers.WaitUntilAsync(
            () => managers.Any(m => m.StandardOutput.Contains("standing by", StringComparison.Ordinal)),
            "one manager logs that it is standing by",
            TimeSpan.FromSeconds(10));
        var clones = managers.Select(m => Cloned().Matches(m.StandardOutput).Count).ToList();
        var leases = managers.Select(m => m.StandardOutput.Contains("Manager lease acquired", StringComparison.Ordinal)).ToList();
        var standing = managers.Select(m => m.StandardOutput.Contains("Another manager holds the lease: standing by", StringComparison.Ordinal)).ToList();
        output.WriteLine($"clones per manager: {string.Join(", ", clones)}; lease acquired: {string.Join(", ", leases)}; standing by: {string.Join(", ", standing)}; {watch}");

        leases.Count(l => l).ShouldBe(1, "exactly one manager acquires the lease");
        var active = leases.IndexOf(true);
        standing[1 - active].ShouldBeTrue("the other manager logs that it stands by");
        clones[1 - active].ShouldBe(0, "the standing-by manager clones nothing");
        clones[active].ShouldBe(Pools.Length * PoolSize, "the active manager clones each pool's size, no more");
        watch.MostReady.ShouldBeLessThanOrEqualTo(PoolSize);
        watch.MostReadyAndPending.ShouldBeLessThanOrEqualTo(PoolSize);
        last!.Pools.Values.ShouldAllBe(p => p.Ready == PoolSize && p.Pending == 0, $"{last}");
        deployment.ShouldAllBeRunning();
    }

    /// <summary>The manager's "cloned" log line (one per successful clone).</summary>
    [GeneratedRegex(@"\[\+\] \[[^\]]+\] '[^']+' cloned in")]
    private static partial Regex Cloned();

    /// <summary>The highest figures of any pool over every status read.</summary>
    private sealed class PoolWatch
    {
        private int _reads;

        public int MostReady { get; private set; }

        public int MostReadyAndPending { get; private set; }

        public string? MostReadyAndPendingAt { get; private set; }

        public void Observe(StatusFigures? status, TimeSpan at)
        {
            if (status is null)
            {
                return;
            }

            _reads++;
            foreach (var (pool, figures) in status.Pools)
            {
                MostReady = Math.Max(MostReady, figures.Ready);
                if (figures.Ready + figures.Pending > MostReadyAndPending)
                {
                    MostReadyAndPending = figures.Ready + figures.Pending;
                    MostReadyAndPendingAt = $"{pool} at {at.TotalSeconds:0.0} s: {figures}";
                }
            }
        }

        public override string ToString()
            => $"{_reads} status reads: most ready in a pool {MostReady}, most ready + pending {MostReadyAndPending} ({MostReadyAndPendingAt})";
    }
}
