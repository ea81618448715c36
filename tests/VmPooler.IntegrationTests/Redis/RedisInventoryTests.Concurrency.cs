using System.Collections.Concurrent;
using VmPooler.Core.Inventory;
using VmPooler.Redis;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>Many API processes checking out of the same pools at once (DESIGN.md invariant 1).</summary>
public sealed partial class RedisInventoryTests
{
    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task CheckoutAsync_ManyConnectionsAtOnce_NoVmHandedOutTwice(string target)
    {
        const int Connections = 8;
        const int CheckoutsEach = 500;
        const int PerPool = 100;
        var prefix = RedisFixtures.NewPrefix();
        var inventories = await Task.WhenAll(Enumerable.Range(0, Connections).Select(_ => _inventories.CreateAsync(EndpointsOf(target), TimeProvider.System, prefix)));
        var pools = new[] { PoolA, PoolB };
        await Task.WhenAll(pools.Select(pool => AddReadyAsync(inventories[0], pool, [.. Enumerable.Range(0, PerPool).Select(i => $"{pool}-vm{i}")])));

        var held = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var problems = new ConcurrentQueue<string>();
        var handedOut = 0;
        var failed = 0;
        var leftCompleted = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var keptRunning = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);

        await Task.WhenAll(inventories.Select((inventory, worker) => Task.Run(async () =>
        {
            for (var i = 0; i < CheckoutsEach; i++)
            {
                // Single items from either pool, two pools at once, and an alias with two candidates.
                IReadOnlyList<CheckoutItem> items = (i % 10) switch
                {
                    0 => [Item(PoolA), Item(PoolB)],
                    5 => [Item("alias", PoolB, PoolA)],
                    7 => [Item(PoolA), Item(PoolA)],
                    _ => [Item(pools[(i + worker) % 2])],
                };
                var result = await inventory.CheckoutAsync(items, Context(), None);
                if (!result.Succeeded)
                {
                    Interlocked.Increment(ref failed);
                    continue;
                }

                foreach (var allocation in result.Allocations)
                {
                    Interlocked.Increment(ref handedOut);
                    if (!held.TryAdd(allocation.Vm, worker))
                    {
                        problems.Enqueue($"{allocation.Vm} handed to worker {worker} while worker {held[allocation.Vm]} held it");
                    }
                }

                foreach (var allocation in result.Allocations)
                {
                    if (i == CheckoutsEach - 1)
                    {
                        keptRunning[allocation.Vm] = worker;
                        continue;
                    }

                    held.TryRemove(allocation.Vm, out _);
                    var returned = await inventory.ReturnAsync(allocation.Vm, None);
                    if (returned != new ReturnOutcome(ReturnStatus.Returned, allocation.Pool))
                    {
                        problems.Enqueue($"return of {allocation.Vm} by worker {worker}: {returned}");
                    }

                    if (i % 50 == 49)
                    {
                        leftCompleted[allocation.Vm] = 0;
                    }
                    else if (!await inventory.MoveAsync(allocation.Pool, allocation.Vm, VmState.Completed, VmState.Ready, cancellationToken: None))
                    {
                        problems.Enqueue($"{allocation.Vm} was not completed after its return by worker {worker}");
                    }
                }
            }
        })));

        problems.ShouldBeEmpty();
        handedOut.ShouldBeGreaterThan(Connections * CheckoutsEach);
        failed.ShouldBe(0, "the pools never ran dry");

        // Final accounting: every VM in exactly one state of its own pool, nothing lost, nothing invented.
        var snapshots = await Task.WhenAll(pools.Select(pool => inventories[^1].GetPoolAsync(pool, None)));
        var all = snapshots.SelectMany(s => s.Pending.Concat(s.Ready).Concat(s.Running).Concat(s.Completed)).ToList();
        all.Select(v => v.Name).ShouldBeUnique();
        all.Count.ShouldBe(pools.Length * PerPool);
        all.ShouldAllBe(v => v.Name.StartsWith(v.Pool + "-", StringComparison.Ordinal));
        snapshots.SelectMany(s => s.Running).Select(v => v.Name).ShouldBe(keptRunning.Keys, ignoreOrder: true);
        snapshots.SelectMany(s => s.Completed).Select(v => v.Name).ShouldBe(leftCompleted.Keys, ignoreOrder: true);
        snapshots.SelectMany(s => s.Pending).ShouldBeEmpty();
        var counts = await inventories[0].GetCountsAsync(pools, None);
        foreach (var snapshot in snapshots)
        {
            counts[snapshot.Pool].ShouldBe(new PoolCounts(0, snapshot.Ready.Count, snapshot.Running.Count, snapshot.Completed.Count));
        }

        counts.Values.Sum(c => c.Pending + c.Ready + c.Running + c.Completed).ShouldBe(pools.Length * PerPool);
        foreach (var name in all.Select(v => v.Name))
        {
            (await inventories[name.Length % Connections].GetVmAsync(name, None))!.State.ShouldBe(all.Single(v => v.Name == name).State);
        }
    }
}
