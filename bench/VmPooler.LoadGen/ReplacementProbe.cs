using System.Diagnostics;
using StackExchange.Redis;
using VmPooler.Core.Inventory;
using VmPooler.Redis;

namespace VmPooler.LoadGen;

/// <summary>
/// Times the refill: checks VMs out one at a time from random pools (through <see cref="RedisInventory"/>, which
/// announces the checkout as the API does), finds the VM the manager registers in its place, waits until it is ready,
/// and reads the times the manager wrote on it. Method:
/// <list type="number">
/// <item>before the checkout, the names of the pool's pending and ready VMs; <c>t0</c> = the clock just before it;</item>
/// <item>poll <c>SCARD pending</c> + <c>ZCARD ready</c> (O(1), every ~1 ms) until the pool is back at its count, then
/// the new name is the one not seen before;</item>
/// <item>poll <c>ZSCORE ready &lt;name&gt;</c> until it is ready (<see cref="Replacements.ReadySeen"/>), then read its
/// <c>clone</c> and <c>ready</c> fields: the manager's own time stamps, on the same machine clock as <c>t0</c>, so the
/// polling interval does not enter the figure;</item>
/// <item>return the checked-out VM and wait 50–100 ms before the next one.</item>
/// </list>
/// A checkout that fails, or whose replacement is not ready within 30 s, counts as missed.
/// </summary>
internal sealed class ReplacementProbe(RedisConnection connection, RedisInventory inventory, TextWriter log)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    public async Task<Replacements> RunAsync(IReadOnlyList<string> pools, int checkouts, int seed)
    {
        var random = new Random(seed);
        var clone = new List<double>();
        var ready = new List<double>();
        var seen = new List<double>();
        var missed = 0;
        for (var i = 0; i < checkouts; i++)
        {
            var one = await OneAsync(pools[random.Next(pools.Count)]);
            if (one is { } r)
            {
                clone.Add(r.Clone);
                ready.Add(r.Ready);
                seen.Add(r.Seen);
            }
            else
            {
                missed++;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50 + random.Next(50)), TimeProvider.System);
        }

        return new Replacements(Sorted(clone), Sorted(ready), Sorted(seen), missed);
    }

    private async Task<(double Clone, double Ready, double Seen)?> OneAsync(string pool)
    {
        var db = connection.Database;
        var keys = connection.Keys.Pool(pool);
        var before = await NamesAsync(db, keys);
        var t0 = TimeProvider.System.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var result = await inventory.CheckoutAsync([new CheckoutItem(pool, [pool])], new CheckoutContext(t0), CancellationToken.None);
        if (!result.Succeeded)
        {
            await log.WriteLineAsync($"  checkout from {pool} failed (empty: {result.FailedRequestedName})");
            return null;
        }

        try
        {
            while (await db.SetLengthAsync(keys[0]) + await db.SortedSetLengthAsync(keys[1]) < before.Count)
            {
                if (!await PauseAsync(clock))
                {
                    await log.WriteLineAsync($"  {pool}: no replacement registered within {Limit.TotalSeconds:0} s");
                    return null;
                }
            }

            var replacement = (await NamesAsync(db, keys)).FirstOrDefault(n => !before.Contains(n));
            if (replacement is null)
            {
                await log.WriteLineAsync($"  {pool}: back at its count, but with no new VM");
                return null;
            }

            while (await db.SortedSetScoreAsync(keys[1], replacement) is null)
            {
                if (!await PauseAsync(clock))
                {
                    await log.WriteLineAsync($"  {pool}: {replacement} not ready within {Limit.TotalSeconds:0} s");
                    return null;
                }
            }

            var seen = clock.Elapsed.TotalMilliseconds;
            var fields = await db.HashGetAsync(connection.Keys.Vm(pool, replacement), [VmFields.Clone, VmFields.Ready]);
            var cloned = VmTime.Parse(fields[0]);
            var readyAt = VmTime.Parse(fields[1]);
            return (cloned is { } c ? (c - t0).TotalMilliseconds : double.NaN, readyAt is { } r ? (r - t0).TotalMilliseconds : seen, seen);
        }
        finally
        {
            await inventory.ReturnAsync(result.Allocations[0].Vm, CancellationToken.None);
        }
    }

    private static async Task<HashSet<string>> NamesAsync(IDatabase db, RedisKey[] keys)
    {
        var pending = await db.SetMembersAsync(keys[0]);
        var ready = await db.SortedSetRangeByRankAsync(keys[1]);
        return pending.Concat(ready).Select(v => (string)v!).ToHashSet(StringComparer.Ordinal);
    }

    private static async Task<bool> PauseAsync(Stopwatch clock)
    {
        if (clock.Elapsed > Limit)
        {
            return false;
        }

        await Task.Delay(TimeSpan.FromMilliseconds(1), TimeProvider.System);
        return true;
    }

    private static double[] Sorted(List<double> values)
    {
        var array = values.Where(v => !double.IsNaN(v)).ToArray();
        Array.Sort(array);
        return array;
    }
}
