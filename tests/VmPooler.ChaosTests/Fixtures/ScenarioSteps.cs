using System.Text.RegularExpressions;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.MultiProcess;
using Xunit.Abstractions;

namespace VmPooler.ChaosTests.Fixtures;

/// <summary>Steps the chaos scenarios share: starting API processes, waiting for full pools, the final leak check.</summary>
internal static partial class ScenarioSteps
{
    /// <summary>How long pools may take to fill (or refill) on a loaded 2-core machine.</summary>
    public static readonly TimeSpan FillDeadline = TimeSpan.FromSeconds(120);

    public static async Task<VmPoolerProcess[]> StartApisAsync(ChaosDeployment chaos, int count)
        => await Task.WhenAll(Enumerable.Range(0, count).Select(i => chaos.Deployment.StartApiAsync($"api-{i}")));

    /// <summary>Waits until every pool has exactly its size ready and nothing pending, running or completed.</summary>
    public static async Task<TimeSpan> WaitFullAndIdleAsync(HttpClient api, TimeSpan? deadline = null)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        StatusFigures? last = null;
        await VmPoolerDeployment.WaitUntilAsync(
            async () => VmPoolerDeployment.IsFullAndIdle(last = await VmPoolerDeployment.TryReadStatusAsync(api)),
            () => $"every pool is full and idle (last: {last})",
            deadline ?? FillDeadline);
        return started.Elapsed;
    }

    /// <summary>
    /// The end check of invariants 2 and 3: stops fault injection, waits until the pools are exactly at size and idle,
    /// freezes the deployment by killing the manager, then compares what the provider holds with what the inventory tracks.
    /// </summary>
    public static Task<IReadOnlyList<string>> SettleAndCheckLeaksAsync(ChaosDeployment chaos, HttpClient api, VmPoolerProcess manager, ITestOutputHelper output)
        => SettleAndCheckLeaksAsync(chaos, api, [manager], output);

    /// <summary>The end check with several managers: every one of them is killed before the comparison.</summary>
    public static async Task<IReadOnlyList<string>> SettleAndCheckLeaksAsync(
        ChaosDeployment chaos, HttpClient api, IReadOnlyList<VmPoolerProcess> managers, ITestOutputHelper output)
    {
        chaos.Calm();
        var settled = await WaitFullAndIdleAsync(api);
        foreach (var manager in managers)
        {
            await chaos.Deployment.KillAsync(manager);
        }

        var status = await VmPoolerDeployment.ReadStatusAsync(api);
        var violations = (await chaos.LeakViolationsAsync()).ToList();
        violations.AddRange(status.Pools.Where(p => p.Value.Ready != p.Value.Max || p.Value.Pending != 0)
            .Select(p => $"pool {p.Key} is not exactly at size after settling: {p.Value}"));
        output.WriteLine($"settled {settled.TotalSeconds:0.0} s after the load stopped: {status}; provider holds {chaos.ProviderVms().Count} VMs; "
            + $"leak check: {violations.Count} violations");
        return violations;
    }

    /// <summary>How many faults the dummy provider injected, by operation, from the manager logs.</summary>
    public static IReadOnlyDictionary<string, int> InjectedFaults(IEnumerable<VmPoolerProcess> managers)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var manager in managers)
        {
            foreach (Match match in Injected().Matches(manager.StandardOutput + manager.StandardError))
            {
                var operation = match.Groups[1].Value;
                counts[operation] = counts.GetValueOrDefault(operation) + 1;
            }
        }

        return counts;
    }

    public static void ShouldHaveNone(this IReadOnlyCollection<string> violations, string what)
        => violations.Count.ShouldBe(0, $"{what}:\n{string.Join('\n', violations.Take(30))}");

    [GeneratedRegex(@"dummy provider: injected (\S+) failure")]
    private static partial Regex Injected();
}
