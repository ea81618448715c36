using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Inventory;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// Random operation sequences run against the Redis inventory and the memory inventory side by side: every answer and
/// every observable state must agree (the memory inventory is the reference the contract suite pins down).
/// </summary>
public sealed partial class RedisInventoryTests
{
    private static readonly string[] DiffPools = ["pool-a", "pool-b", "pool-c"];
    private static readonly string[] DiffVms = [.. Enumerable.Range(0, 8).Select(i => $"vm{i}")];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Operations_RandomSequence_AgreeWithMemoryInventory(int seed)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero));
        var memory = new MemoryInventory(time);
        var redisInventory = await _inventories.CreateAsync(redis.Server.Endpoint, time);
        var random = new Random(seed);
        var log = new List<string>();

        for (var step = 0; step < 400; step++)
        {
            var (description, run) = RandomOperation(random, time);
            log.Add(description);
            var expected = await run(memory);
            var actual = await run(redisInventory);
            actual.ShouldBe(expected, Because(seed, log, "answer"));
            await CompareStateAsync(memory, redisInventory, seed, log);
        }
    }

    private static string Because(int seed, List<string> log, string what)
        => $"seed {seed}, {what} after:\n  " + string.Join("\n  ", log.TakeLast(12));

    private static async Task CompareStateAsync(IInventory expected, IInventory actual, int seed, List<string> log)
    {
        foreach (var vm in DiffVms)
        {
            Describe(await actual.GetVmAsync(vm, None)).ShouldBe(Describe(await expected.GetVmAsync(vm, None)), Because(seed, log, $"GetVm({vm})"));
        }

        foreach (var pool in DiffPools)
        {
            Describe(await actual.GetPoolAsync(pool, None)).ShouldBe(Describe(await expected.GetPoolAsync(pool, None)), Because(seed, log, $"GetPool({pool})"));
        }

        var expectedCounts = await expected.GetCountsAsync(DiffPools, None);
        var actualCounts = await actual.GetCountsAsync(DiffPools, None);
        foreach (var pool in DiffPools)
        {
            actualCounts[pool].ShouldBe(expectedCounts[pool], Because(seed, log, $"GetCounts({pool})"));
        }
    }

    private static string Describe(VmRecord? vm)
        => vm is null ? "unknown" : $"{vm.Pool}/{vm.State?.ToString() ?? "forgotten"} " + string.Join(",", vm.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}"));

    private static string Describe(PoolSnapshot snapshot)
        => $"pending[{Sorted(snapshot.Pending)}] ready[{string.Join(",", snapshot.Ready.Select(v => v.Name))}] running[{Sorted(snapshot.Running)}] completed[{Sorted(snapshot.Completed)}]";

    private static string Sorted(IEnumerable<VmRecord> vms) => string.Join(",", vms.Select(v => v.Name).Order(StringComparer.Ordinal));

    /// <summary>One random operation, as a description and a function that runs it and renders its answer.</summary>
    private static (string Description, Func<IInventory, Task<string>> Run) RandomOperation(Random random, FakeTimeProvider time)
    {
        string Pool() => DiffPools[random.Next(DiffPools.Length)];
        string Vm() => DiffVms[random.Next(DiffVms.Length)];
        VmState State() => (VmState)random.Next(4);
        Dictionary<string, string> SomeFields()
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in new[] { (VmFields.Template, "tpl"), (VmFields.CloneTime, "1.5"), (VmFields.Lifetime, "2"), ("x", random.Next(3).ToString(CultureInfo.InvariantCulture)) })
            {
                if (random.Next(3) == 0)
                {
                    fields[key] = value;
                }
            }

            return fields;
        }

        string Show(IReadOnlyDictionary<string, string>? fields) => fields is null ? "-" : "{" + string.Join(",", fields.Select(f => $"{f.Key}={f.Value}")) + "}";

        var now = time.GetUtcNow();
        switch (random.Next(10))
        {
            case 0:
            case 1:
            {
                var (pool, vm, fields) = (Pool(), Vm(), SomeFields());
                return ($"AddPending({pool}, {vm}, {Show(fields)})", async i => (await i.AddPendingAsync(pool, vm, fields, None)).ToString());
            }

            case 2:
            case 3:
            {
                var (pool, vm, from, to) = (Pool(), Vm(), State(), State());
                var fields = random.Next(2) == 0 ? null : SomeFields();
                Dictionary<string, string?>? expect = random.Next(3) switch
                {
                    0 => new() { [VmFields.Lifetime] = null },
                    1 => new() { [VmFields.Lifetime] = "2" },
                    _ => null,
                };
                var shownExpect = expect is null ? "-" : $"lifetime={expect[VmFields.Lifetime] ?? "absent"}";
                return ($"Move({pool}, {vm}, {from}->{to}, {Show(fields)}, expect {shownExpect})", async i => (await i.MoveAsync(pool, vm, from, to, fields, expect, None)).ToString());
            }

            case 4:
            {
                var (pool, vm, from) = (Pool(), Vm(), State());
                TimeSpan? keep = random.Next(2) == 0 ? null : TimeSpan.FromHours(1);
                var fields = random.Next(2) == 0 ? null : new Dictionary<string, string> { [VmFields.Destroy] = "gone" };
                return ($"Forget({pool}, {vm}, {from}, keep {keep}, {Show(fields)})", async i => (await i.ForgetAsync(pool, vm, from, keep, fields, None)).ToString());
            }

            case 5:
            {
                var (pool, vm) = (Pool(), Vm());
                return ($"Adopt({pool}, {vm})", async i => (await i.AdoptDiscoveredAsync(pool, vm, new Dictionary<string, string> { [VmFields.Discovered] = "now" }, None)).ToString());
            }

            case 6:
            {
                var (vm, set) = (Vm(), SomeFields());
                string[] remove = random.Next(2) == 0 ? [] : [random.Next(2) == 0 ? VmFields.CloneTime : VmFields.Lifetime];
                return ($"Update({vm}, {Show(set)}, remove [{string.Join(",", remove)}])", async i => (await i.UpdateFieldsAsync(vm, set, remove, None)).ToString());
            }

            case 7:
            case 8:
            {
                // Either plain pools (repeats included) or aliases over every pool, never both in one request: how
                // the two mix is pinned down by CheckoutAsync_AliasBeforeItsOwnPool_ServedInRequestOrder.
                var aliases = random.Next(4) == 0;
                var items = Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
                {
                    if (aliases)
                    {
                        return new CheckoutItem("alias", [.. DiffPools.OrderBy(_ => random.Next())]);
                    }

                    var pool = Pool();
                    return new CheckoutItem(pool, [pool]);
                }).ToList();
                var context = random.Next(2) == 0 ? new CheckoutContext(now) : new CheckoutContext(now, "tok", "ann", 3);
                var shown = string.Join(", ", items.Select(i => $"{i.RequestedName}({string.Join("|", i.CandidatePools)})"));
                return ($"Checkout({shown}, token {context.Token ?? "-"})", async i =>
                {
                    var result = await i.CheckoutAsync(items, context, None);
                    return result.Succeeded
                        ? "ok " + string.Join(",", result.Allocations.Select(a => $"{a.RequestedName}:{a.Pool}:{a.Vm}").Order(StringComparer.Ordinal))
                        : "failed"; // which item is named when several cannot be served is not part of the contract
                });
            }

            default:
            {
                if (random.Next(3) == 0)
                {
                    var minutes = random.Next(1, 40);
                    return ($"Advance({minutes} min)", i =>
                    {
                        // Both inventories share the clock: advance it once, on the first (memory) run.
                        if (i is MemoryInventory)
                        {
                            time.Advance(TimeSpan.FromMinutes(minutes));
                        }

                        return Task.FromResult("advanced");
                    });
                }

                var vm = Vm();
                return ($"Return({vm})", async i => (await i.ReturnAsync(vm, None)).ToString());
            }
        }
    }
}
