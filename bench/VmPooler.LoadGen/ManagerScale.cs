using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Bench.Shared;
using VmPooler.Core.Configuration;
using VmPooler.Redis;

namespace VmPooler.LoadGen;

/// <summary>
/// The pool manager alone (<c>--role manager</c>, one or more processes of their own) on a Redis inventory with many
/// pools on the dummy provider with zero delays: time to fill every pool from empty, CPU and RSS of the managers while
/// they idle with full pools, and the refill (<see cref="ReplacementProbe"/>): checkout → replacement clone started and
/// ready. With several managers and <see cref="ManagerRun.KillOne"/>, the busiest one is then killed (SIGKILL) and the
/// refill timed again, which shows how long its pools wait for another manager.
/// </summary>
internal static class ManagerScale
{
    public static async Task<ManagerResult> RunAsync(string vmpoolerDll, ManagerRun run, TextWriter log)
    {
        using var redis = await LocalRedisServer.StartAsync();
        var yaml = BenchConfig.Yaml(run.Pools, run.Size, redis.Endpoint, keyPrefix: run.Name, taskLimit: run.TaskLimit);
        var options = new RedisOptions { Server = "127.0.0.1", Port = redis.Port, KeyPrefix = run.Name, OperationTimeout = TimeSpan.FromSeconds(10) };
        using var connection = RedisConnection.Connect(options, NullLogger<RedisConnection>.Instance);
        await RedisCeiling.WaitConnectedAsync(connection);
        var inventory = new RedisInventory(connection, TimeProvider.System, NullLogger<RedisInventory>.Instance);
        var names = Enumerable.Range(0, run.Pools).Select(BenchConfig.PoolName).ToList();

        var distinctIds = run.Managers > 1 && VmpoolerFeatures.HasManagerId(vmpoolerDll);
        var clock = Stopwatch.StartNew();
        var managers = Enumerable.Range(0, run.Managers)
            .Select(i => ServerProcess.Start(vmpoolerDll, yaml, "manager", extraArguments: distinctIds ? ["--manager-id", $"bench-{i}"] : null))
            .ToList();
        try
        {
            await WaitFullAsync(inventory, names, run, managers, clock);
            var fillSeconds = clock.Elapsed.TotalSeconds;
            await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{run.Name}: {run.Pools}x{run.Size} ready after {fillSeconds:0.0} s with {run.Managers} manager(s){(distinctIds ? " (distinct --manager-id)" : "")}"));

            var load = ProcessStats.LoadAverage();
            var idle = run.Window > TimeSpan.Zero ? await IdleAsync(managers, run.Window, log) : new Idle(0, double.NaN, double.NaN, double.NaN, double.NaN, 0);
            var probe = new ReplacementProbe(connection, inventory, log);
            var replacements = await probe.RunAsync(names, run.Checkouts, seed: 42);
            await log.WriteLineAsync(Describe(run.Name + ": refill", replacements));
            var result = new ManagerResult(
                run, distinctIds, fillSeconds, idle.Seconds, idle.CpuPercent, idle.CpuPercentMax, idle.RssAverageMb, idle.RssMaxMb, replacements, load);
            if (run.KillOne && managers.Count > 1)
            {
                var busiest = managers[idle.Busiest];
                busiest.Kill();
                await log.WriteLineAsync($"{run.Name}: SIGKILL manager {idle.Busiest} (pid {busiest.Id}, the busiest in the idle window)");
                var afterKill = await probe.RunAsync(names, Math.Max(20, run.Checkouts / 5), seed: 43);
                await log.WriteLineAsync(Describe(run.Name + ": refill after the kill", afterKill));
                result = result with { AfterKill = afterKill };
            }

            return result;
        }
        finally
        {
            foreach (var manager in managers)
            {
                manager.Dispose();
            }
        }
    }

    public static string Describe(string what, Replacements r)
        => string.Create(CultureInfo.InvariantCulture,
            $"{what}: clone started p50 {Latencies.Percentile(r.CloneStarted, 50):0.0} / p99 {Latencies.Percentile(r.CloneStarted, 99):0.0} ms; " +
            $"ready p50 {Latencies.Percentile(r.Ready, 50):0.0} / p99 {Latencies.Percentile(r.Ready, 99):0.0} / max {Latencies.Percentile(r.Ready, 100):0.0} ms " +
            $"(seen ready p99 {Latencies.Percentile(r.ReadySeen, 99):0.0} ms); {r.Count} checkouts, {r.Missed} missed");

    private static async Task WaitFullAsync(RedisInventory inventory, List<string> names, ManagerRun run, List<ServerProcess> managers, Stopwatch clock)
    {
        var total = run.Pools * run.Size;
        var ready = 0;
        while (ready < total)
        {
            if (managers.FirstOrDefault(m => m.HasExited) is { } exited)
            {
                throw new InvalidOperationException("a manager exited; see " + exited.LogPath);
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(15))
            {
                throw new TimeoutException($"the pools did not fill within 15 minutes ({ready}/{total} ready)");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
            var counts = await inventory.GetCountsAsync(names, CancellationToken.None);
            ready = counts.Values.Sum(c => Math.Min(c.Ready, run.Size));
        }
    }

    private sealed record Idle(double Seconds, double CpuPercent, double CpuPercentMax, double RssAverageMb, double RssMaxMb, int Busiest);

    /// <summary>Lets the last clones settle, then samples the managers' CPU time and RSS over <paramref name="window"/>.</summary>
    private static async Task<Idle> IdleAsync(List<ServerProcess> managers, TimeSpan window, TextWriter log)
    {
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, window.TotalSeconds / 2)), TimeProvider.System);
        var cpu0 = managers.Select(m => ProcessStats.CpuMilliseconds(m.Id)).ToArray();
        var watch = Stopwatch.StartNew();
        var rssSum = new List<double>();
        var rssMax = 0.0;
        while (watch.Elapsed < window)
        {
            var rss = managers.Select(m => ProcessStats.RssMegabytes(m.Id)).ToArray();
            rssSum.Add(rss.Sum());
            rssMax = Math.Max(rssMax, rss.Max());
            await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System);
        }

        var percent = managers.Select((m, i) => (ProcessStats.CpuMilliseconds(m.Id) - cpu0[i]) / watch.Elapsed.TotalMilliseconds * 100).ToArray();
        var busiest = Array.IndexOf(percent, percent.Max());
        await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"idle over {watch.Elapsed.TotalSeconds:0} s: CPU {percent.Sum():0.00} % of one core (per manager: {string.Join(", ", percent.Select(p => p.ToString("0.00", CultureInfo.InvariantCulture)))}), " +
            $"RSS {rssSum.Average():0} MB in all, max {rssMax:0} MB for one manager"));
        return new Idle(watch.Elapsed.TotalSeconds, percent.Sum(), percent.Max(), rssSum.Average(), rssMax, busiest);
    }
}
