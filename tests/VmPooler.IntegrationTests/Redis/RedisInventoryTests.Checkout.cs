using VmPooler.Core.Inventory;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// Checkout details where the Redis inventory once differed from the memory inventory (found by
/// <see cref="Operations_RandomSequence_AgreeWithMemoryInventory"/>). Both are contract behaviours, checked here on
/// a single server and on the cluster.
/// </summary>
public sealed partial class RedisInventoryTests
{
    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task CheckoutAsync_FailedOnVmWithEarlierCheckoutFields_FieldsKept(string target)
    {
        var inventory = await _inventories.CreateAsync(EndpointsOf(target), TimeProvider.System);
        (await inventory.AddPendingAsync(PoolA, "vm1", Fields((VmFields.Lifetime, "48"), (VmFields.Token, "old"), (VmFields.TokenUser, "bob")), None)).ShouldBeTrue();
        (await inventory.MoveAsync(PoolA, "vm1", VmState.Pending, VmState.Ready, cancellationToken: None)).ShouldBeTrue();

        var result = await inventory.CheckoutAsync([Item(PoolA), Item(PoolB)], Context("tok", "ann", 3), None);

        result.FailedRequestedName.ShouldBe(PoolB);
        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.State.ShouldBe(VmState.Ready);
        vm.Get(VmFields.Checkout).ShouldBeNull();
        vm.Get(VmFields.Lifetime).ShouldBe("48", "a failed checkout changes nothing");
        vm.Get(VmFields.Token).ShouldBe("old");
        vm.Get(VmFields.TokenUser).ShouldBe("bob");
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task CheckoutAsync_AliasBeforeItsOwnPool_ServedInRequestOrder(string target)
    {
        var inventory = await _inventories.CreateAsync(EndpointsOf(target), TimeProvider.System);
        await AddReadyAsync(inventory, PoolA, "a1", "a2");
        await AddReadyAsync(inventory, PoolB, "b1");

        // In request order: the alias takes a1, PoolA takes a2, and the second alias falls back to b1.
        var result = await inventory.CheckoutAsync([Item("alias", PoolA, PoolB), Item(PoolA), Item("alias", PoolA, PoolB)], Context(), None);

        result.Succeeded.ShouldBeTrue($"failed on {result.FailedRequestedName}");
        result.Allocations.ShouldBe([new Allocation("alias", PoolA, "a1"), new Allocation(PoolA, PoolA, "a2"), new Allocation("alias", PoolB, "b1")], ignoreOrder: true);
    }
}
