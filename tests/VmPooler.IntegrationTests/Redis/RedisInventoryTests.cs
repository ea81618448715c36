using System.Globalization;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Redis;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// What only the Redis inventory has to get right: key layout (prefix and per-pool hash tags, one slot per pool on a
/// cluster), isolation by prefix, surviving <c>SCRIPT FLUSH</c>, the manager lease on real Redis time, outages, many
/// processes checking out at once, and a restarted manager over a fresh connection.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed partial class RedisInventoryTests(RedisFixtures redis) : IAsyncLifetime
{
    private const string PoolA = "pool-a";
    private const string PoolB = "debian-12";

    private readonly RedisInventories _inventories = new();

    private static CancellationToken None => CancellationToken.None;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _inventories.DisposeAsync();

    /// <summary>The single server's or the cluster's endpoints, by name (for theories).</summary>
    private string EndpointsOf(string target) => target == "cluster" ? redis.Cluster.Endpoints : redis.Server.Endpoint;

    private IReadOnlyList<RedisServer> NodesOf(string target) => target == "cluster" ? redis.Cluster.Nodes : [redis.Server];

    // ---- Keys ----

    [Fact]
    public async Task Keys_EveryOperation_PrefixedAndTaggedWithTheirPool()
    {
        var prefix = RedisFixtures.NewPrefix();
        var before = await KeysAsync(redis.Server, "*");
        var inventory = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System, prefix);

        await ExerciseEveryKeyAsync(inventory);

        var keys = await KeysAsync(redis.Server, prefix + "*");
        var created = (await KeysAsync(redis.Server, "*")).Except(before).ToList();
        created.ShouldBe(keys, ignoreOrder: true, "every key the inventory wrote carries its prefix");
        keys.ShouldAllBe(k => k.StartsWith(prefix + ":{", StringComparison.Ordinal));
        keys.Select(HashTag).Distinct().ShouldBe([PoolA, PoolB, "index", "stats", "manager"], ignoreOrder: true);
        keys.Where(k => k.Contains(":vm:", StringComparison.Ordinal)).Select(k => (HashTag(k), k[(k.LastIndexOf(':') + 1)..]))
            .ShouldBe([(PoolA, "a1"), (PoolA, "a2"), (PoolA, "a3"), (PoolA, "a4"), (PoolA, "stray"), (PoolB, "b1")], ignoreOrder: true);
        keys.ShouldContain($"{prefix}:{{{PoolA}}}:pending");
        keys.ShouldContain($"{prefix}:{{{PoolA}}}:running");
        keys.ShouldContain($"{prefix}:{{{PoolA}}}:completed");
        keys.ShouldContain($"{prefix}:{{{PoolB}}}:ready");
    }

    [Fact]
    public async Task Keys_OnCluster_EachPoolInOneSlot()
    {
        var prefix = RedisFixtures.NewPrefix();
        var inventory = await _inventories.CreateAsync(redis.Cluster.Endpoints, TimeProvider.System, prefix);

        await ExerciseEveryKeyAsync(inventory);

        var perNode = await Task.WhenAll(redis.Cluster.Nodes.Select(n => KeysAsync(n, prefix + "*")));
        var keys = perNode.SelectMany(k => k).ToList();
        keys.Select(HashTag).Distinct().ShouldBe([PoolA, PoolB, "index", "stats", "manager"], ignoreOrder: true);
        foreach (var group in keys.GroupBy(HashTag))
        {
            var slots = new HashSet<int>();
            foreach (var key in group)
            {
                slots.Add(await KeySlotAsync(key));
            }

            slots.ShouldHaveSingleItem($"the keys of {{{group.Key}}} ({string.Join(", ", group)}) share one slot");
            slots.Single().ShouldBe(await KeySlotAsync("{" + group.Key + "}"));
            perNode.Count(node => node.Any(k => HashTag(k) == group.Key)).ShouldBe(1, $"the keys of {{{group.Key}}} live on one node");
        }
    }

    [Fact]
    public async Task Prefixes_TwoInventoriesOnOneServer_DoNotSeeEachOther()
    {
        var first = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System);
        var second = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System);
        await AddReadyAsync(first, PoolA, "vm1", "vm2");
        await AddReadyAsync(second, PoolA, "vm1");
        await second.AddPendingAsync(PoolA, "only-second", Fields(), None);
        var secondEvents = new List<string>();
        using var subscription = second.SubscribePoolChanges(p => { lock (secondEvents) { secondEvents.Add(p); } });

        var fromFirst = await first.CheckoutAsync([Item(PoolA), Item(PoolA)], Context(), None);

        fromFirst.Allocations.Select(a => a.Vm).ShouldBe(["vm1", "vm2"]);
        (await Counts(first, PoolA)).ShouldBe(new PoolCounts(0, 0, 2, 0));
        (await Counts(second, PoolA)).ShouldBe(new PoolCounts(1, 1, 0, 0, 1));
        (await second.GetVmAsync("vm1", None))!.State.ShouldBe(VmState.Ready);
        (await first.GetVmAsync("only-second", None)).ShouldBeNull();
        (await first.ReturnAsync("only-second", None)).Status.ShouldBe(ReturnStatus.UnknownVm);
        (await second.GetPoolAsync(PoolA, None)).Names().ShouldBe(["vm1", "only-second"], ignoreOrder: true);

        // Events stay within a prefix: once the second sees its own checkout, it would have seen the first's too.
        (await second.CheckoutAsync([Item(PoolA)], Context(), None)).Succeeded.ShouldBeTrue();
        await AsyncTestHelpers.WaitUntilAsync(() => { lock (secondEvents) { return secondEvents.Count > 0; } }, "the second inventory sees its own checkout");
        lock (secondEvents)
        {
            secondEvents.ShouldBe([PoolA]);
        }
    }

    // ---- Scripts ----

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Operations_AfterScriptFlush_StillWork(string target)
    {
        var inventory = await _inventories.CreateAsync(EndpointsOf(target), TimeProvider.System);
        await AddReadyAsync(inventory, PoolA, "vm1", "vm2");
        await CheckoutOneAsync(inventory, PoolA);
        (await inventory.TryAcquireAsync("me", TimeSpan.FromMinutes(1), None)).ShouldBeTrue();

        foreach (var node in NodesOf(target))
        {
            (await node.CliAsync("SCRIPT", "FLUSH")).ShouldContain("OK");
        }

        (await inventory.AddPendingAsync(PoolA, "vm3", Fields(), None)).ShouldBeTrue();
        (await inventory.MoveAsync(PoolA, "vm3", VmState.Pending, VmState.Ready, cancellationToken: None)).ShouldBeTrue();
        (await inventory.UpdateFieldsAsync("vm3", Fields(("k", "v")), cancellationToken: None)).ShouldBeTrue();
        (await CheckoutOneAsync(inventory, PoolA)).ShouldBe("vm2");
        (await inventory.ReturnAsync("vm1", None)).Status.ShouldBe(ReturnStatus.Returned);
        (await inventory.ForgetAsync(PoolA, "vm1", VmState.Completed, TimeSpan.FromHours(1), cancellationToken: None)).ShouldBeTrue();
        (await inventory.AdoptDiscoveredAsync(PoolA, "stray", Fields(), None)).ShouldBeTrue();
        (await inventory.GetVmAsync("vm3", None))!.Get("k").ShouldBe("v");
        (await inventory.GetPoolAsync(PoolA, None)).Ready.Select(v => v.Name).ShouldBe(["vm3"]);
        (await Counts(inventory, PoolA)).ShouldBe(new PoolCounts(0, 1, 1, 1));
        (await inventory.TryAcquireAsync("me", TimeSpan.FromMinutes(1), None)).ShouldBeTrue();
        (await inventory.TryAcquireAsync("other", TimeSpan.FromMinutes(1), None)).ShouldBeFalse();
    }

    // ---- Manager lease ----

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task TryAcquireAsync_Held_OnlyTheHolderRenewsUntilReleased(string target)
    {
        var prefix = RedisFixtures.NewPrefix();
        var one = await _inventories.CreateAsync(EndpointsOf(target), TimeProvider.System, prefix);
        var two = await _inventories.CreateAsync(EndpointsOf(target), TimeProvider.System, prefix);
        var ttl = TimeSpan.FromMinutes(1);

        (await one.TryAcquireAsync("manager-1", ttl, None)).ShouldBeTrue();
        (await two.TryAcquireAsync("manager-2", ttl, None)).ShouldBeFalse();
        (await one.TryAcquireAsync("manager-1", ttl, None)).ShouldBeTrue();
        (await two.TryAcquireAsync("manager-1", ttl, None)).ShouldBeTrue("the lease belongs to the holder name, not the connection");

        await two.ReleaseAsync("manager-2", None);
        (await two.TryAcquireAsync("manager-2", ttl, None)).ShouldBeFalse("a non-holder cannot release it");

        await one.ReleaseAsync("manager-1", None);
        (await two.TryAcquireAsync("manager-2", ttl, None)).ShouldBeTrue();
        (await one.TryAcquireAsync("manager-1", ttl, None)).ShouldBeFalse();
    }

    [Fact]
    public async Task TryAcquireAsync_OtherPrefix_IndependentLease()
    {
        var one = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System);
        var two = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System);

        (await one.TryAcquireAsync("manager-1", TimeSpan.FromMinutes(1), None)).ShouldBeTrue();
        (await two.TryAcquireAsync("manager-2", TimeSpan.FromMinutes(1), None)).ShouldBeTrue();
    }

    [Fact]
    public async Task TryAcquireAsync_HolderStopsRenewing_ExpiresAfterTtl()
    {
        var prefix = RedisFixtures.NewPrefix();
        var one = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System, prefix);
        var two = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System, prefix);
        var ttl = TimeSpan.FromMilliseconds(300);
        var held = TimeProvider.System.GetTimestamp();

        (await one.TryAcquireAsync("manager-1", ttl, None)).ShouldBeTrue();
        (await two.TryAcquireAsync("manager-2", ttl, None)).ShouldBeFalse();

        await AsyncTestHelpers.WaitUntilAsync(() => two.TryAcquireAsync("manager-2", ttl, None), "the unrenewed lease expires", TimeSpan.FromSeconds(5));
        TimeProvider.System.GetElapsedTime(held).ShouldBeGreaterThan(TimeSpan.FromMilliseconds(250));
        (await one.TryAcquireAsync("manager-1", ttl, None)).ShouldBeFalse();
    }

    [Fact]
    public async Task TryAcquireAsync_HolderRenews_KeepsItPastTheTtl()
    {
        var prefix = RedisFixtures.NewPrefix();
        var one = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System, prefix);
        var two = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System, prefix);
        var ttl = TimeSpan.FromSeconds(1);
        var held = TimeProvider.System.GetTimestamp();

        (await one.TryAcquireAsync("manager-1", ttl, None)).ShouldBeTrue();
        while (TimeProvider.System.GetElapsedTime(held) < ttl * 1.5)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(150), TimeProvider.System);
            (await one.TryAcquireAsync("manager-1", ttl, None)).ShouldBeTrue();
            (await two.TryAcquireAsync("manager-2", ttl, None)).ShouldBeFalse();
        }
    }

    // ---- Cluster: checkout across slots ----

    [Fact]
    public async Task CheckoutAsync_ClusterPoolsInDifferentSlotsOneEmpty_NothingTakenAndOrderKept()
    {
        var (x, y, z) = await PoolsOnThreeNodesAsync();
        var inventory = await _inventories.CreateAsync(redis.Cluster.Endpoints, TimeProvider.System);
        await AddReadyAsync(inventory, x, "x1", "x2");
        await AddReadyAsync(inventory, z, "z1");

        var failed = await inventory.CheckoutAsync([Item(x), Item(z), Item(y)], Context("tok", "ann", 4), None);

        failed.Succeeded.ShouldBeFalse();
        failed.FailedRequestedName.ShouldBe(y);
        failed.Allocations.ShouldBeEmpty();
        (await Counts(inventory, x)).ShouldBe(new PoolCounts(0, 2, 0, 0));
        (await Counts(inventory, z)).ShouldBe(new PoolCounts(0, 1, 0, 0));
        foreach (var name in new[] { "x1", "x2", "z1" })
        {
            var vm = (await inventory.GetVmAsync(name, None))!;
            vm.State.ShouldBe(VmState.Ready);
            vm.Get(VmFields.Checkout).ShouldBeNull();
            vm.Get(VmFields.Token).ShouldBeNull();
            vm.Get(VmFields.Lifetime).ShouldBeNull();
        }

        var both = await inventory.CheckoutAsync([Item(x), Item(z)], Context(), None);
        both.Allocations.ShouldBe([new Allocation(x, x, "x1"), new Allocation(z, z, "z1")]);
        (await CheckoutOneAsync(inventory, x)).ShouldBe("x2");
    }

    // ---- Helpers ----

    /// <summary>Writes every kind of key: VMs in each state, retained metadata, statistics, tags and the lease.</summary>
    private static async Task ExerciseEveryKeyAsync(RedisInventory inventory)
    {
        await AddReadyAsync(inventory, PoolA, "a1", "a2");
        await inventory.AddPendingAsync(PoolA, "a3", Fields((VmFields.Template, "tpl")), None);
        await inventory.AddPendingAsync(PoolA, "a4", Fields(), None);
        await inventory.UpdateFieldsAsync("a4", Fields((VmFields.CloneTime, "2")), cancellationToken: None);
        await inventory.CheckoutAsync([Item(PoolA), Item(PoolA)], Context("tok", "ann", 2), None);
        await inventory.ReturnAsync("a1", None);
        await inventory.ForgetAsync(PoolA, "a3", VmState.Pending, TimeSpan.FromHours(1), Fields((VmFields.CloneError, "x")), None);
        await inventory.AdoptDiscoveredAsync(PoolA, "stray", Fields(), None);
        await AddReadyAsync(inventory, PoolB, "b1");
        var now = TimeProvider.System.GetUtcNow();
        await inventory.RecordDurationAsync(DurationKind.Clone, PoolA, "a1", 1.5, now, None);
        await inventory.RecordDurationAsync(DurationKind.Boot, PoolA, "a1", 3, now, None);
        await inventory.RecordTagsAsync("a2", Fields(("project", "p")), DateOnly.FromDateTime(now.UtcDateTime), None);
        (await inventory.TryAcquireAsync("me", TimeSpan.FromHours(1), None)).ShouldBeTrue();
        (await inventory.GetPoolAsync(PoolA, None)).Names().ShouldBe(["a1", "a2", "a4", "stray"], ignoreOrder: true);
    }

    /// <summary>The hash tag Redis hashes: what is between the first '{' and the next '}'.</summary>
    private static string HashTag(string key)
    {
        var open = key.IndexOf('{', StringComparison.Ordinal);
        var close = open < 0 ? -1 : key.IndexOf('}', open + 1);
        return close > open + 1 ? key[(open + 1)..close] : "";
    }

    private static async Task<List<string>> KeysAsync(RedisServer node, string pattern)
        => [.. (await node.CliAsync("--scan", "--pattern", pattern)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct()];

    private async Task<int> KeySlotAsync(string key)
        => int.Parse((await redis.Cluster.Nodes[0].CliAsync("CLUSTER", "KEYSLOT", key)).Trim(), CultureInfo.InvariantCulture);

    /// <summary>Three pool names whose slots are served by three different cluster nodes.</summary>
    private async Task<(string X, string Y, string Z)> PoolsOnThreeNodesAsync()
    {
        var found = new Dictionary<int, string>();
        for (var i = 0; found.Count < 3; i++)
        {
            i.ShouldBeLessThan(100, "three pools on three nodes");
            var pool = $"pool-{i}";
            var port = await PortOfSlotAsync(await KeySlotAsync("{" + pool + "}"));
            found.TryAdd(port, pool);
        }

        var pools = found.Values.ToList();
        return (pools[0], pools[1], pools[2]);
    }

    /// <summary>The port of the cluster node that serves <paramref name="slot"/> (from <c>CLUSTER NODES</c>).</summary>
    private async Task<int> PortOfSlotAsync(int slot)
    {
        var nodes = await redis.Cluster.Nodes[0].CliAsync("CLUSTER", "NODES");
        foreach (var line in nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            foreach (var range in parts.Skip(8))
            {
                var bounds = range.Split('-');
                if (!int.TryParse(bounds[0], CultureInfo.InvariantCulture, out var low))
                {
                    continue;
                }

                var high = bounds.Length > 1 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : low;
                if (slot >= low && slot <= high)
                {
                    var address = parts[1].Split('@')[0];
                    return int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
                }
            }
        }

        throw new InvalidOperationException($"no node serves slot {slot}:\n{nodes}");
    }

    private static Dictionary<string, string> Fields(params (string Key, string Value)[] fields)
        => fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

    private static CheckoutItem Item(string pool, params string[] candidates) => new(pool, candidates.Length == 0 ? [pool] : candidates);

    private static CheckoutContext Context(string? token = null, string? user = null, int? lifetime = null)
        => new(TimeProvider.System.GetUtcNow(), token, user, lifetime);

    private static async Task<PoolCounts> Counts(IInventory inventory, string pool) => (await inventory.GetCountsAsync([pool], None))[pool];

    private static async Task AddReadyAsync(IInventory inventory, string pool, params string[] vms)
    {
        foreach (var vm in vms)
        {
            (await inventory.AddPendingAsync(pool, vm, Fields((VmFields.Pool, pool), (VmFields.CloneTime, "1")), None)).ShouldBeTrue();
            (await inventory.MoveAsync(pool, vm, VmState.Pending, VmState.Ready, Fields((VmFields.Ready, "now")), cancellationToken: None)).ShouldBeTrue();
        }
    }

    private static async Task<string> CheckoutOneAsync(IInventory inventory, string pool)
    {
        var result = await inventory.CheckoutAsync([Item(pool)], Context(), None);
        result.Succeeded.ShouldBeTrue();
        return result.Allocations.Single().Vm;
    }
}
