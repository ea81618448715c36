using System.Collections.Concurrent;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Inventory;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Core.Inventory;

/// <summary>
/// Random checkout/return/refill sequences against <see cref="MemoryInventory"/> and a model of the contract (each pool a
/// queue of ready VMs, oldest first): every answer must match the model, no VM is ever held twice, and at the end every
/// VM is in exactly one state (DESIGN.md invariants 1 and 2).
/// </summary>
public class CheckoutPropertyTests
{
    private const int PoolCount = 3;
    private const int VmsPerPool = 4;
    private static readonly string[] Pools = [.. Enumerable.Range(0, PoolCount).Select(i => $"pool{i}")];

    public enum OpKind
    {
        Checkout,
        Return,
        ReturnUnknown,
        Refill,
    }

    /// <summary>One step: a checkout of items (each a list of candidate pool indexes), a return, or a refill.</summary>
    public sealed record Op(OpKind Kind, int[][] Items, int Pick)
    {
        public override string ToString()
            => Kind == OpKind.Checkout ? $"Checkout[{string.Join(" ", Items.Select(i => string.Join("|", i)))}]" : $"{Kind}({Pick})";
    }

    /// <summary>The generator of the property's argument: a sequence of any length of <see cref="Op"/>s.</summary>
    public static class OpSequences
    {
        public static Arbitrary<Op[]> Ops() => Gen.ListOf(OpGen()).Select(ops => ops.ToArray()).ToArbitrary();
    }

    private static Gen<Op> OpGen()
    {
        var candidates = Gen.Choose(1, PoolCount).SelectMany(n => Gen.Shuffle(Enumerable.Range(0, PoolCount)).Select(s => s.Take(n).ToArray()));
        var checkout = Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(candidates, n)).Select(items => new Op(OpKind.Checkout, items, 0));
        var pick = Gen.Choose(0, 1000);
        return Gen.Frequency(
            (5, checkout),
            (3, pick.Select(p => new Op(OpKind.Return, [], p))),
            (1, pick.Select(p => new Op(OpKind.ReturnUnknown, [], p))),
            (3, pick.Select(p => new Op(OpKind.Refill, [], p))));
    }

    [Property(Arbitrary = new[] { typeof(OpSequences) }, MaxTest = 300, EndSize = 60)]
    public void CheckoutReturnRefill_RandomSequences_MatchModelAndNeverDoubleHandOut(Op[] ops)
    {
        var time = new FakeTimeProvider();
        var inventory = new MemoryInventory(time);
        var ct = CancellationToken.None;

        // The model.
        var ready = Pools.ToDictionary(p => p, _ => new List<string>());
        var held = new Dictionary<string, string>(StringComparer.Ordinal); // vm → pool
        var completed = new List<(string Vm, string Pool)>();
        var all = new List<string>();

        foreach (var pool in Pools)
        {
            for (var i = 0; i < VmsPerPool; i++)
            {
                var vm = $"{pool}-vm{i}";
                all.Add(vm);
                inventory.AddPendingAsync(pool, vm, new Dictionary<string, string>(), ct).Result.ShouldBeTrue();
                inventory.MoveAsync(pool, vm, VmState.Pending, VmState.Ready, cancellationToken: ct).Result.ShouldBeTrue();
                ready[pool].Add(vm);
            }
        }

        var step = 0;
        foreach (var op in ops)
        {
            step++;
            switch (op.Kind)
            {
                case OpKind.Checkout:
                {
                    var items = op.Items.Select((candidates, i) => new CheckoutItem($"item{i}", [.. candidates.Select(c => Pools[c])])).ToArray();

                    // What the model predicts: per item the oldest ready VM of its first candidate that still has one.
                    var remaining = ready.ToDictionary(kv => kv.Key, kv => new Queue<string>(kv.Value));
                    var expected = new List<Allocation>();
                    string? expectedFailure = null;
                    foreach (var item in items)
                    {
                        var pool = item.CandidatePools.FirstOrDefault(p => remaining[p].Count > 0);
                        if (pool is null)
                        {
                            expectedFailure = item.RequestedName;
                            break;
                        }

                        expected.Add(new Allocation(item.RequestedName, pool, remaining[pool].Dequeue()));
                    }

                    var result = inventory.CheckoutAsync(items, new CheckoutContext(time.GetUtcNow()), ct).Result;

                    result.FailedRequestedName.ShouldBe(expectedFailure, $"step {step}: {op}");
                    if (expectedFailure is null)
                    {
                        result.Allocations.ShouldBe(expected, $"step {step}: {op}");
                        result.Allocations.Select(a => a.Vm).Distinct().Count().ShouldBe(items.Length);
                        foreach (var allocation in result.Allocations)
                        {
                            held.ContainsKey(allocation.Vm).ShouldBeFalse($"step {step}: {allocation.Vm} handed out while held");
                            held[allocation.Vm] = allocation.Pool;
                            ready[allocation.Pool].Remove(allocation.Vm);
                        }
                    }
                    else
                    {
                        result.Allocations.ShouldBeEmpty();
                    }

                    break;
                }

                case OpKind.Return when held.Count > 0:
                {
                    var vm = held.Keys.OrderBy(k => k, StringComparer.Ordinal).ElementAt(op.Pick % held.Count);
                    var pool = held[vm];
                    inventory.ReturnAsync(vm, ct).Result.ShouldBe(new ReturnOutcome(ReturnStatus.Returned, pool), $"step {step}");
                    held.Remove(vm);
                    completed.Add((vm, pool));
                    break;
                }

                case OpKind.ReturnUnknown:
                {
                    // A VM that is not running (ready or completed), or was never created.
                    var vm = all[op.Pick % all.Count];
                    var outcome = inventory.ReturnAsync(held.ContainsKey(vm) ? "never-created" : vm, ct).Result;
                    outcome.Status.ShouldNotBe(ReturnStatus.Returned, $"step {step}");
                    break;
                }

                case OpKind.Refill when completed.Count > 0:
                {
                    var (vm, pool) = completed[op.Pick % completed.Count];
                    inventory.MoveAsync(pool, vm, VmState.Completed, VmState.Ready, cancellationToken: ct).Result.ShouldBeTrue($"step {step}");
                    completed.Remove((vm, pool));
                    ready[pool].Add(vm);
                    break;
                }

                default:
                    break;
            }
        }

        // Every VM is in exactly one state, the one the model says.
        var counts = inventory.GetCountsAsync(Pools, ct).Result;
        counts.Values.Sum(c => c.Pending + c.Ready + c.Running + c.Completed).ShouldBe(all.Count);
        foreach (var pool in Pools)
        {
            var snapshot = inventory.GetPoolAsync(pool, ct).Result;
            snapshot.Ready.Select(v => v.Name).ShouldBe(ready[pool], $"ready order of {pool}");
            snapshot.Running.Select(v => v.Name).OrderBy(n => n).ShouldBe(held.Where(h => h.Value == pool).Select(h => h.Key).OrderBy(n => n));
            snapshot.Completed.Select(v => v.Name).OrderBy(n => n).ShouldBe(completed.Where(c => c.Pool == pool).Select(c => c.Vm).OrderBy(n => n));
            snapshot.Pending.ShouldBeEmpty();
        }

        foreach (var vm in all)
        {
            var state = inventory.GetVmAsync(vm, ct).Result.ShouldNotBeNull().State;
            var expectedState = held.ContainsKey(vm) ? VmState.Running : completed.Any(c => c.Vm == vm) ? VmState.Completed : VmState.Ready;
            state.ShouldBe(expectedState, vm);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task CheckoutAsync_ConcurrentWorkers_NeverHandsOutAVmTwice(int seed)
    {
        const int pools = 3;
        const int vmsPerPool = 12;
        const int workers = 16;
        const int iterations = 400;
        var time = new FakeTimeProvider();
        var inventory = new MemoryInventory(time);
        var poolNames = Enumerable.Range(0, pools).Select(i => $"pool{i}").ToArray();
        var created = new List<string>();
        foreach (var pool in poolNames)
        {
            for (var i = 0; i < vmsPerPool; i++)
            {
                var vm = $"{pool}-vm{i}";
                created.Add(vm);
                await inventory.AddPendingAsync(pool, vm, new Dictionary<string, string>(), CancellationToken.None);
                await inventory.MoveAsync(pool, vm, VmState.Pending, VmState.Ready);
            }
        }

        var holders = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var violations = new ConcurrentQueue<string>();
        var checkouts = 0;
        using var start = new ManualResetEventSlim();

        async Task WorkAsync(int worker)
        {
            var random = new Random((seed * 1000) + worker);
            var mine = new List<(string Vm, string Pool)>();
            start.Wait();
            for (var i = 0; i < iterations; i++)
            {
                switch (random.Next(10))
                {
                    case < 5:
                    {
                        var items = Enumerable.Range(0, random.Next(1, 4))
                            .Select(n => new CheckoutItem($"r{n}", [.. poolNames.OrderBy(_ => random.Next()).Take(random.Next(1, pools + 1))]))
                            .ToArray();
                        var result = await inventory.CheckoutAsync(items, new CheckoutContext(time.GetUtcNow(), $"token{worker}"), CancellationToken.None);
                        if (!result.Succeeded)
                        {
                            if (result.Allocations.Count != 0)
                            {
                                violations.Enqueue($"failed checkout returned allocations: {result.FailedRequestedName}");
                            }

                            break;
                        }

                        Interlocked.Increment(ref checkouts);
                        if (result.Allocations.Count != items.Length || result.Allocations.Select(a => a.Vm).Distinct().Count() != items.Length)
                        {
                            violations.Enqueue($"checkout of {items.Length} gave {string.Join(",", result.Allocations.Select(a => a.Vm))}");
                        }

                        foreach (var allocation in result.Allocations)
                        {
                            if (!holders.TryAdd(allocation.Vm, worker))
                            {
                                violations.Enqueue($"{allocation.Vm} handed to worker {worker} while worker {holders.GetValueOrDefault(allocation.Vm)} holds it");
                            }

                            mine.Add((allocation.Vm, allocation.Pool));
                        }

                        break;
                    }

                    case < 8 when mine.Count > 0:
                    {
                        var index = random.Next(mine.Count);
                        var (vm, pool) = mine[index];
                        mine.RemoveAt(index);

                        // Released before the return: once returned, a refill may hand it out again at once.
                        holders.TryRemove(vm, out _);
                        var outcome = await inventory.ReturnAsync(vm, CancellationToken.None);
                        if (outcome != new ReturnOutcome(ReturnStatus.Returned, pool))
                        {
                            violations.Enqueue($"return of held {vm} gave {outcome}");
                        }

                        break;
                    }

                    default:
                    {
                        // The manager's part: recycle a completed VM into the ready queue.
                        var pool = poolNames[random.Next(pools)];
                        var snapshot = await inventory.GetPoolAsync(pool, CancellationToken.None);
                        if (snapshot.Completed.Count > 0)
                        {
                            var vm = snapshot.Completed[random.Next(snapshot.Completed.Count)].Name;
                            await inventory.MoveAsync(pool, vm, VmState.Completed, VmState.Pending);
                            await inventory.MoveAsync(pool, vm, VmState.Pending, VmState.Ready);
                        }

                        break;
                    }
                }
            }

            foreach (var (vm, _) in mine)
            {
                holders.TryRemove(vm, out _);
                var outcome = await inventory.ReturnAsync(vm, CancellationToken.None);
                if (outcome.Status != ReturnStatus.Returned)
                {
                    violations.Enqueue($"final return of {vm} gave {outcome}");
                }
            }
        }

        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(() => WorkAsync(w))).ToArray();
        start.Set();
        await Task.WhenAll(tasks).DefaultTimeout();

        violations.ShouldBeEmpty();
        checkouts.ShouldBeGreaterThan(workers);
        holders.ShouldBeEmpty();
        var counts = await inventory.GetCountsAsync(poolNames, CancellationToken.None);
        counts.Values.Sum(c => c.Pending + c.Ready + c.Running + c.Completed).ShouldBe(created.Count);
        counts.Values.Sum(c => c.Running).ShouldBe(0);
        var states = new List<string>();
        foreach (var pool in poolNames)
        {
            var snapshot = await inventory.GetPoolAsync(pool, CancellationToken.None);
            states.AddRange(snapshot.Pending.Concat(snapshot.Ready).Concat(snapshot.Running).Concat(snapshot.Completed).Select(v => v.Name));
        }

        states.Order().ShouldBe(created.Order(), "every VM in exactly one state, none lost");
    }
}
