using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using VmPooler.Bench.Shared;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Redis;

namespace VmPooler.LoadGen;

/// <summary>What the manager-scale run measured.</summary>
internal sealed record ManagerResult(
    int Pools,
    int Size,
    double FillSeconds,
    double WindowSeconds,
    double CpuPercent,
    double RssAverageMb,
    double RssMaxMb,
    double[] ReplacementMs,
    int ReplacementsMissed,
    string Load);

/// <summary>
/// The pool manager alone (<c>--role manager</c>, its own process) on a Redis inventory with many pools on the dummy
/// provider with zero delays: time to fill every pool from empty, CPU and RSS while it idles with full pools, and the
/// delay from a checkout to the start of its replacement clone (the <c>clone</c> time the manager writes when it
/// registers the new VM, minus the checkout time).
/// </summary>
internal static class ManagerScale
{
    public static async Task<ManagerResult> RunAsync(string vmpoolerDll, int pools, int size, TimeSpan window, int checkouts, TextWriter log)
    {
        using var redis = await LocalRedisServer.StartAsync();
        var yaml = BenchConfig.Yaml(pools, size, redis.Endpoint, keyPrefix: "scale");
        var options = new RedisOptions { Server = "127.0.0.1", Port = redis.Port, KeyPrefix = "scale", OperationTimeoutSeconds = 10 };
        using var connection = RedisConnection.Connect(options, NullLogger<RedisConnection>.Instance);
        await RedisCeiling.WaitConnectedAsync(connection);
        var inventory = new RedisInventory(connection, TimeProvider.System, NullLogger<RedisInventory>.Instance);
        var names = Enumerable.Range(0, pools).Select(BenchConfig.PoolName).ToList();

        var clock = Stopwatch.StartNew();
        using var manager = ServerProcess.Start(vmpoolerDll, yaml, "manager");
        var total = pools * size;
        var ready = 0;
        while (ready < total)
        {
            if (manager.HasExited)
            {
                throw new InvalidOperationException("the manager exited; see " + manager.LogPath);
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException($"the pools did not fill within 10 minutes ({ready}/{total} ready)");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
            var counts = await inventory.GetCountsAsync(names, CancellationToken.None);
            ready = counts.Values.Sum(c => Math.Min(c.Ready, size));
        }

        var fillSeconds = clock.Elapsed.TotalSeconds;
        await log.WriteLineAsync($"manager: {total} VMs ready after {fillSeconds:0.0} s");

        // Let the last clones' passes and the first ready checks settle, then watch the idle manager.
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, window.TotalSeconds / 2)), TimeProvider.System);
        var load = ProcessStats.LoadAverage();
        var cpu0 = ProcessStats.CpuMilliseconds(manager.Id);
        var watch = Stopwatch.StartNew();
        var rss = new List<double>();
        while (watch.Elapsed < window)
        {
            rss.Add(ProcessStats.RssMegabytes(manager.Id));
            await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System);
        }

        var cpuPercent = (ProcessStats.CpuMilliseconds(manager.Id) - cpu0) / watch.Elapsed.TotalMilliseconds * 100;
        await log.WriteLineAsync($"manager: idle CPU {cpuPercent:0.00} % of one core, RSS {rss.Average():0} MB over {watch.Elapsed.TotalSeconds:0} s");

        var (delays, missed) = await ReplacementDelaysAsync(connection, inventory, names, checkouts);
        return new ManagerResult(
            pools, size, fillSeconds, watch.Elapsed.TotalSeconds, cpuPercent, rss.Average(), rss.Max(), delays, missed, load);
    }

    /// <summary>
    /// Checks VMs out one at a time from random pools (through the inventory, which announces the checkout as the API
    /// does) and waits for a VM the pool did not have before; its <c>clone</c> field is when the manager registered it.
    /// </summary>
    private static async Task<(double[] Delays, int Missed)> ReplacementDelaysAsync(
        RedisConnection connection, RedisInventory inventory, List<string> pools, int checkouts)
    {
        var random = new Random(42);
        var delays = new List<double>();
        var missed = 0;
        var db = connection.Database;
        for (var i = 0; i < checkouts; i++)
        {
            var pool = pools[random.Next(pools.Count)];
            var keys = connection.Keys.Pool(pool);
            var before = (await inventory.GetPoolAsync(pool, CancellationToken.None)).Names();
            var now = TimeProvider.System.GetUtcNow();
            var result = await inventory.CheckoutAsync([new CheckoutItem(pool, [pool])], new CheckoutContext(now), CancellationToken.None);
            if (!result.Succeeded)
            {
                missed++;
                continue;
            }

            string? replacement = null;
            var waited = Stopwatch.StartNew();
            while (replacement is null && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                var pending = await db.SetMembersAsync(keys[0]);
                var readyNames = await db.SortedSetRangeByRankAsync(keys[1]);
                replacement = pending.Concat(readyNames).Select(v => (string)v!).FirstOrDefault(n => !before.Contains(n));
                if (replacement is null)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(1), TimeProvider.System);
                }
            }

            if (replacement is not null && (await inventory.GetVmAsync(replacement, CancellationToken.None))?.GetTime(VmFields.Clone) is { } cloneStarted)
            {
                delays.Add((cloneStarted - now).TotalMilliseconds);
            }
            else
            {
                missed++;
            }

            await inventory.ReturnAsync(result.Allocations[0].Vm, CancellationToken.None);
            await Task.Delay(TimeSpan.FromMilliseconds(50 + random.Next(50)), TimeProvider.System);
        }

        var sorted = delays.ToArray();
        Array.Sort(sorted);
        return (sorted, missed);
    }
}
