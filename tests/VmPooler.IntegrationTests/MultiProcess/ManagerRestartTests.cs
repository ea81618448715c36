using System.Diagnostics;
using System.Text.RegularExpressions;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.MultiProcess;

/// <summary>
/// Issue 3, "restart": the pool manager killed with SIGKILL in the middle of filling the pools, and a new one started
/// on the same Redis, converges to exactly <c>size</c> ready VMs (no over-cloning); and two managers started at once
/// split the pools through per-pool leases (each pool owned once), so the pools never exceed their size.
/// </summary>
/// <remarks>
/// The dummy provider keeps its VMs in the manager's memory, so the killed manager's VMs die with it: the new manager
/// finds the inventory's pending and ready VMs missing from its provider, drops them and clones replacements. A new
/// manager (another id) first waits for the killed manager's per-pool leases to run out (up to 15 s).
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
    public async Task TwoManagersStartedAtOnce_SplitThePools_PoolsNeverExceedTheirSize()
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

        // The two split the pools between them (rendezvous hashing: one may get both): every pool has exactly one owner.
        var owners = await ReadOwnersAsync(api.Client);
        var clones = managers.Select(m => Cloned().Matches(m.StandardOutput).Count).ToList();
        output.WriteLine($"clones per manager: {string.Join(", ", clones)}; owners: {string.Join(", ", owners.Select(o => $"{o.Key}: {string.Join("+", o.Value)}"))}; {watch}");
        owners.Count.ShouldBe(2, "both managers are live in the registry");
        owners.Values.SelectMany(p => p).Order().ShouldBe(Pools.Order(), "every pool is owned exactly once");
        clones.Sum().ShouldBeGreaterThanOrEqualTo(Pools.Length * PoolSize);
        watch.MostReady.ShouldBeLessThanOrEqualTo(PoolSize);
        watch.MostReadyAndPending.ShouldBeLessThanOrEqualTo(PoolSize);
        last!.Pools.Values.ShouldAllBe(p => p.Ready == PoolSize && p.Pending == 0, $"{last}");
        deployment.ShouldAllBeRunning();
    }

    /// <summary>GET /api/v3/managers: manager id → the pools it owns.</summary>
    private static async Task<Dictionary<string, List<string>>> ReadOwnersAsync(HttpClient client)
    {
        var body = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync(new Uri("/api/v3/managers", UriKind.Relative)))!;
        return body["managers"]!.AsArray().ToDictionary(
            m => m!["id"]!.GetValue<string>(),
            m => m!["pools"]!.AsArray().Select(p => p!.GetValue<string>()).ToList());
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
