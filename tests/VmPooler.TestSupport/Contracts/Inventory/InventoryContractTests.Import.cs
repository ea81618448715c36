using VmPooler.Core.Inventory;

namespace VmPooler.Tests.Shared.Inventory;

/// <summary>The contract of <see cref="IInventory.ImportVmAsync"/>: a VM taken over from another installation.</summary>
public abstract partial class InventoryContractTests
{
    [Fact]
    public async Task ImportVmAsync_Running_TrackedWithItsFieldsAndReturnable()
    {
        var inventory = Create();
        var checkout = VmTime.Format(Time.GetUtcNow().AddHours(-3));
        var fields = Fields((VmFields.Pool, PoolA), (VmFields.Checkout, checkout), (VmFields.Lifetime, "12"), (VmFields.Token, "hash"), ("tag:owner", "ci"));

        (await inventory.ImportVmAsync(PoolA, "vm1", VmState.Running, fields, None)).ShouldBeTrue();

        var vm = (await inventory.GetVmAsync("vm1", None)).ShouldNotBeNull();
        vm.State.ShouldBe(VmState.Running);
        vm.Pool.ShouldBe(PoolA);
        ShouldContainExactly(vm.Fields, [.. fields.Select(f => (f.Key, f.Value))]);
        (await inventory.GetCountsAsync([PoolA], None))[PoolA].ShouldBe(new PoolCounts(0, 0, 1, 0));
        (await inventory.ReturnAsync("vm1", None)).Status.ShouldBe(ReturnStatus.Returned);
    }

    [Fact]
    public async Task ImportVmAsync_EveryState_LandsInThatState()
    {
        var inventory = Create();
        foreach (var state in Enum.GetValues<VmState>())
        {
            (await inventory.ImportVmAsync(PoolB, $"vm-{state}", state, Fields((VmFields.Pool, PoolB)), None)).ShouldBeTrue();
        }

        var pool = await inventory.GetPoolAsync(PoolB, None);
        pool.Pending.Select(v => v.Name).ShouldBe(["vm-Pending"]);
        pool.Ready.Select(v => v.Name).ShouldBe(["vm-Ready"]);
        pool.Running.Select(v => v.Name).ShouldBe(["vm-Running"]);
        pool.Completed.Select(v => v.Name).ShouldBe(["vm-Completed"]);
    }

    [Fact]
    public async Task ImportVmAsync_Ready_IsTheNewestReadyVm()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "old");
        (await inventory.ImportVmAsync(PoolA, "imported", VmState.Ready, Fields((VmFields.Pool, PoolA)), None)).ShouldBeTrue();
        await AddReadyAsync(inventory, PoolA, "new");

        var handedOut = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var result = await inventory.CheckoutAsync([Item(PoolA)], new CheckoutContext(Time.GetUtcNow()), None);
            handedOut.Add(result.Allocations.ShouldHaveSingleItem().Vm);
        }

        handedOut.ShouldBe(["old", "imported", "new"]);
    }

    [Fact]
    public async Task ImportVmAsync_KnownName_RefusedAndUnchanged()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");
        var before = await inventory.GetVmAsync("vm1", None);

        (await inventory.ImportVmAsync(PoolA, "vm1", VmState.Ready, Fields(("x", "1")), None)).ShouldBeFalse();
        (await inventory.ImportVmAsync(PoolB, "vm1", VmState.Running, Fields(("x", "1")), None)).ShouldBeFalse();

        var after = (await inventory.GetVmAsync("vm1", None)).ShouldNotBeNull();
        after.State.ShouldBe(VmState.Running);
        after.Pool.ShouldBe(PoolA);
        ShouldContainExactly(after.Fields, [.. before!.Fields.Select(f => (f.Key, f.Value))]);
        (await inventory.GetCountsAsync([PoolB], None))[PoolB].ShouldBe(default);
    }
}
