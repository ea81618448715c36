using System.Collections.Concurrent;
using System.Diagnostics;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Redis;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>Redis going away, coming back, or answering too late.</summary>
public sealed partial class RedisInventoryTests
{
    /// <summary>The bound within which an operation must fail while Redis is away (operation_timeout 1.5 s plus slack).</summary>
    private static readonly TimeSpan UnavailableWithin = TimeSpan.FromSeconds(2.5);

    /// <summary>operation_timeout of the connections these tests measure.</summary>
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task Operations_ServerStopped_UnavailableWithinTimeoutAndWorkAgainAfterRestart()
    {
        // Its own server: stopping the shared one would hit the other tests' data.
        await using var server = await RedisServer.StartNewAsync();
        var connection = await _inventories.ConnectAsync(server.Endpoint, operationTimeout: OperationTimeout);
        var inventory = RedisInventories.Create(connection, TimeProvider.System);
        await AddReadyAsync(inventory, PoolA, "vm1", "vm2");
        var events = new ConcurrentQueue<string>();
        using var subscription = inventory.SubscribePoolChanges(events.Enqueue);

        await server.StopAsync();

        foreach (var (name, operation) in EveryKindOfOperation(inventory))
        {
            var watch = Stopwatch.StartNew();
            await Should.ThrowAsync<InventoryUnavailableException>(operation().DefaultTimeout(), name);
            watch.Elapsed.ShouldBeLessThan(UnavailableWithin, $"{name} fails fast while Redis is down");
        }

        await server.StartAsync();
        await AsyncTestHelpers.WaitUntilAsync(() => connection.IsConnected, "the same connection reconnects", TimeSpan.FromSeconds(15));

        // The restarted server is empty (no persistence) and has no scripts loaded: every operation works at once.
        await AddReadyAsync(inventory, PoolA, "vm3", "vm4");
        (await CheckoutOneAsync(inventory, PoolA)).ShouldBe("vm3");
        (await inventory.ReturnAsync("vm3", None)).Status.ShouldBe(ReturnStatus.Returned);
        (await Counts(inventory, PoolA)).ShouldBe(new PoolCounts(0, 1, 0, 1));
        (await inventory.TryAcquireAsync("me", TimeSpan.FromMinutes(1), None)).ShouldBeTrue();

        // A subscription made before the outage reports changes again (pub/sub is fire-and-forget, so keep changing the
        // pool until the subscription connection is back too).
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                if (events.Contains(PoolA))
                {
                    return true;
                }

                var vm = await CheckoutOneAsync(inventory, PoolA);
                await inventory.ReturnAsync(vm, None);
                (await inventory.MoveAsync(PoolA, vm, VmState.Completed, VmState.Ready, cancellationToken: None)).ShouldBeTrue();
                return false;
            },
            "the subscription reports changes after the restart",
            TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task CheckoutAsync_ServerAnswersTooLate_UnavailableAndNothingStaysTaken()
    {
        var inventory = await _inventories.CreateAsync(redis.Server.Endpoint, TimeProvider.System, operationTimeout: OperationTimeout);
        await AddReadyAsync(inventory, PoolA, "vm1", "vm2");

        (await redis.Server.CliAsync("CLIENT", "PAUSE", "2200", "ALL")).ShouldContain("OK");
        var watch = Stopwatch.StartNew();
        await Should.ThrowAsync<InventoryUnavailableException>(inventory.CheckoutAsync([Item(PoolA)], Context("tok", "ann", 2), None).DefaultTimeout());
        watch.Elapsed.ShouldBeLessThan(UnavailableWithin);

        // Once Redis runs the late script, what it took is put back where it was.
        await EventuallyAsync(async () => (await Counts(inventory, PoolA)).Ready == 2);
        (await Counts(inventory, PoolA)).ShouldBe(new PoolCounts(0, 2, 0, 0));
        var vm1 = (await inventory.GetVmAsync("vm1", None))!;
        vm1.Get(VmFields.Checkout).ShouldBeNull();
        vm1.Get(VmFields.Token).ShouldBeNull();
        (await CheckoutOneAsync(inventory, PoolA)).ShouldBe("vm1");
    }

    [Fact]
    public async Task CheckoutAsync_ClusterNodeOfSecondPoolTooSlow_UnavailableAndNothingStaysTaken()
    {
        var (x, y, _) = await PoolsOnThreeNodesAsync();
        var inventory = await _inventories.CreateAsync(redis.Cluster.Endpoints, TimeProvider.System, operationTimeout: OperationTimeout);
        await AddReadyAsync(inventory, x, "x1");
        await AddReadyAsync(inventory, y, "y1");
        var slowNode = await NodeOfPoolAsync(y);

        (await slowNode.CliAsync("CLIENT", "PAUSE", "2200", "ALL")).ShouldContain("OK");
        var watch = Stopwatch.StartNew();
        await Should.ThrowAsync<InventoryUnavailableException>(inventory.CheckoutAsync([Item(x), Item(y)], Context(), None).DefaultTimeout());
        watch.Elapsed.ShouldBeLessThan(UnavailableWithin);

        // The caller was told the checkout failed, so all or nothing means nothing: x1 (taken from a node that
        // answered) and y1 (taken late by the slow node) must both be ready again.
        await EventuallyAsync(async () => (await Counts(inventory, x)).Ready == 1 && (await Counts(inventory, y)).Ready == 1);
        (await inventory.GetVmAsync("y1", None))!.State.ShouldBe(VmState.Ready, "y1, taken after the caller gave up");
        (await inventory.GetVmAsync("x1", None))!.State.ShouldBe(VmState.Ready, "x1, taken before the second pool timed out");
    }

    private static IEnumerable<(string Name, Func<Task> Operation)> EveryKindOfOperation(RedisInventory inventory) =>
    [
        ("checkout", () => inventory.CheckoutAsync([Item(PoolA)], Context(), None)),
        ("return", () => inventory.ReturnAsync("vm1", None)),
        ("add pending", () => inventory.AddPendingAsync(PoolA, "vm9", Fields(), None)),
        ("move", () => inventory.MoveAsync(PoolA, "vm1", VmState.Ready, VmState.Completed, cancellationToken: None)),
        ("get vm", () => inventory.GetVmAsync("vm1", None)),
        ("get pool", () => inventory.GetPoolAsync(PoolA, None)),
        ("get counts", () => inventory.GetCountsAsync([PoolA, PoolB], None)),
        ("record duration", () => inventory.RecordDurationAsync(DurationKind.Clone, PoolA, "vm1", 1, TimeProvider.System.GetUtcNow(), None)),
        ("acquire lease", () => inventory.TryAcquireAsync("me", TimeSpan.FromMinutes(1), None)),
    ];

    private async Task<RedisServer> NodeOfPoolAsync(string pool)
    {
        var port = await PortOfSlotAsync(await KeySlotAsync("{" + pool + "}"));
        return redis.Cluster.Nodes.Single(n => n.Port == port);
    }

    /// <summary>Polls <paramref name="condition"/> for a few seconds; the assertions after it say what went wrong.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        try
        {
            await AsyncTestHelpers.WaitUntilAsync(condition, "the condition holds", TimeSpan.FromSeconds(4));
        }
        catch (TimeoutException)
        {
        }
    }
}
