using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Inventory;
using VmPooler.Tests.Shared;
using VmPooler.Tests.Shared.Inventory;

namespace VmPooler.Tests.Core.Inventory;

/// <summary>The inventory contract against the embedded inventory, plus what only the memory inventory offers.</summary>
public class MemoryInventoryTests : InventoryContractTests
{
    protected override IInventory CreateInventory(FakeTimeProvider time, int maxForgottenPerPool) => new MemoryInventory(time, maxForgottenPerPool);

    protected override Task<IReadOnlyDictionary<string, string>> ReadTagsAsync(IInventory inventory, DateOnly day)
        => inventory.GetTagsAsync(day, CancellationToken.None);

    [Fact]
    public async Task SubscribePoolChanges_Checkout_NotifiedBeforeCheckoutReturns()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1");
        var seen = new List<string>();
        using var subscription = inventory.SubscribePoolChanges(seen.Add);

        await inventory.CheckoutAsync([Item(PoolA)], new CheckoutContext(Time.GetUtcNow()), None);

        seen.ShouldBe([PoolA]);
    }

    [Fact]
    public async Task SubscribePoolChanges_FailedCheckout_NotNotified()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1");
        var seen = new List<string>();
        using var subscription = inventory.SubscribePoolChanges(seen.Add);

        await inventory.CheckoutAsync([Item(PoolA), Item(PoolB)], new CheckoutContext(Time.GetUtcNow()), None);

        seen.ShouldBeEmpty();
    }

    [Fact]
    public async Task SubscribePoolChanges_ReturnOfNonRunningVm_NotNotified()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1");
        var seen = new List<string>();
        using var subscription = inventory.SubscribePoolChanges(seen.Add);

        await inventory.ReturnAsync("a1", None);
        await inventory.ReturnAsync("ghost", None);

        seen.ShouldBeEmpty();
    }

    [Fact]
    public async Task GetPoolAsync_Ready_OldestFirst()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm3", "vm1", "vm2");

        var snapshot = await inventory.GetPoolAsync(PoolA, None);

        snapshot.Ready.Select(v => v.Name).ShouldBe(["vm3", "vm1", "vm2"]);
    }

    [Fact]
    public async Task GetPoolAsync_ManyExpiredEntries_SweptAway()
    {
        var inventory = Create();
        for (var i = 0; i < 50; i++)
        {
            await inventory.AddPendingAsync(PoolA, $"vm{i}", Fields(), None);
            await inventory.ForgetAsync(PoolA, $"vm{i}", VmState.Pending, TimeSpan.FromMinutes(5), cancellationToken: None);
        }

        Time.Advance(TimeSpan.FromMinutes(10));
        await inventory.GetPoolAsync(PoolA, None);

        for (var i = 0; i < 50; i++)
        {
            (await inventory.GetVmAsync($"vm{i}", None)).ShouldBeNull();
            (await inventory.AddPendingAsync(PoolA, $"vm{i}", Fields(), None)).ShouldBeTrue();
        }
    }
}
