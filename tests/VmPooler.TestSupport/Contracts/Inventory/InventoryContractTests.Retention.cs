using VmPooler.Core.Inventory;

namespace VmPooler.Tests.Shared.Inventory;

/// <summary>
/// The cap on records of forgotten VMs (<c>max_destroyed_records_per_pool</c>, issue 14 item 4): beside their age limit,
/// an inventory keeps only the newest N per pool, never touches a VM it still tracks, and frees the names it drops.
/// </summary>
public abstract partial class InventoryContractTests
{
    private static readonly TimeSpan Retention = TimeSpan.FromHours(168);

    private async Task ForgetNewAsync(IInventory inventory, string pool, params string[] vms)
    {
        foreach (var vm in vms)
        {
            (await inventory.AddPendingAsync(pool, vm, Fields((VmFields.Pool, pool), (VmFields.Template, pool)), None)).ShouldBeTrue();
            (await inventory.ForgetAsync(pool, vm, VmState.Pending, Retention, Fields((VmFields.Destroy, vm)), None)).ShouldBeTrue();
        }
    }

    private static async Task<string[]> KnownAsync(IInventory inventory, IEnumerable<string> vms)
    {
        var known = new List<string>();
        foreach (var vm in vms)
        {
            if (await inventory.GetVmAsync(vm, None) is not null)
            {
                known.Add(vm);
            }
        }

        return [.. known];
    }

    [Fact]
    public async Task ForgetAsync_MoreThanTheCap_NewestRecordsKeptOldestDroppedAndTheirNamesFree()
    {
        var inventory = Create(maxForgottenPerPool: 5);
        var names = Enumerable.Range(0, 12).Select(i => $"gone{i}").ToArray();

        await ForgetNewAsync(inventory, PoolA, names);

        (await KnownAsync(inventory, names)).ShouldBe(names[7..]);
        var newest = (await inventory.GetVmAsync("gone11", None)).ShouldNotBeNull();
        newest.State.ShouldBeNull();
        newest.Pool.ShouldBe(PoolA);
        newest.Get(VmFields.Destroy).ShouldBe("gone11");
        (await CountsAsync(inventory, PoolA)).ShouldBe(default);

        // A dropped record's name is free again, in any pool; a kept one's is not.
        (await inventory.AddPendingAsync(PoolB, "gone0", Fields(), None)).ShouldBeTrue();
        (await inventory.AddPendingAsync(PoolB, "gone11", Fields(), None)).ShouldBeFalse();
        (await StateOfAsync(inventory, "gone0")).ShouldBe(VmState.Pending);
    }

    [Fact]
    public async Task ForgetAsync_CapIsPerPool_OtherPoolsKeepTheirRecords()
    {
        var inventory = Create(maxForgottenPerPool: 2);

        await ForgetNewAsync(inventory, PoolA, "a0", "a1");
        await ForgetNewAsync(inventory, PoolB, "b0", "b1", "b2");

        (await KnownAsync(inventory, ["a0", "a1", "b0", "b1", "b2"])).ShouldBe(["a0", "a1", "b1", "b2"]);
    }

    [Fact]
    public async Task ForgetAsync_BeyondTheCap_TrackedVmsNeverDropped()
    {
        var inventory = Create(maxForgottenPerPool: 1);
        await inventory.AddPendingAsync(PoolA, "pending", Fields(), None);
        await AddReadyAsync(inventory, PoolA, "ready");
        await AddRunningAsync(inventory, PoolA, "running");
        await AddRunningAsync(inventory, PoolA, "returned");
        (await inventory.ReturnAsync("returned", None)).Status.ShouldBe(ReturnStatus.Returned);

        await ForgetNewAsync(inventory, PoolA, "gone0", "gone1", "gone2");

        (await StateOfAsync(inventory, "pending")).ShouldBe(VmState.Pending);
        (await StateOfAsync(inventory, "ready")).ShouldBe(VmState.Ready);
        (await StateOfAsync(inventory, "running")).ShouldBe(VmState.Running);
        (await StateOfAsync(inventory, "returned")).ShouldBe(VmState.Completed);
        (await CountsAsync(inventory, PoolA)).ShouldBe(new PoolCounts(1, 1, 1, 1, Cloning: 1));
        (await KnownAsync(inventory, ["gone0", "gone1", "gone2"])).ShouldBe(["gone2"]);
    }

    [Fact]
    public async Task ForgetAsync_RecordTrackedAgainByAdoption_NeitherDroppedNorCounted()
    {
        var inventory = Create(maxForgottenPerPool: 2);
        await ForgetNewAsync(inventory, PoolA, "back");
        (await inventory.AdoptDiscoveredAsync(PoolA, "back", Fields((VmFields.Discovered, "now")), None)).ShouldBeTrue();

        await ForgetNewAsync(inventory, PoolA, "gone0", "gone1", "gone2");

        var back = (await inventory.GetVmAsync("back", None)).ShouldNotBeNull();
        back.State.ShouldBe(VmState.Completed);
        back.Get(VmFields.Destroy).ShouldBe("back");
        (await CountsAsync(inventory, PoolA)).Completed.ShouldBe(1);
        (await KnownAsync(inventory, ["gone0", "gone1", "gone2"])).ShouldBe(["gone1", "gone2"]);
    }

    [Fact]
    public async Task ForgetAsync_NameReusedAfterItsRecordExpired_NotDroppedByTheCap()
    {
        var inventory = Create(maxForgottenPerPool: 2);
        await inventory.AddPendingAsync(PoolA, "again", Fields(), None);
        await inventory.ForgetAsync(PoolA, "again", VmState.Pending, TimeSpan.FromMinutes(5), cancellationToken: None);
        Time.Advance(TimeSpan.FromMinutes(10));
        (await inventory.AddPendingAsync(PoolA, "again", Fields((VmFields.Template, "second life")), None)).ShouldBeTrue();

        await ForgetNewAsync(inventory, PoolA, "gone0", "gone1", "gone2");

        var again = (await inventory.GetVmAsync("again", None)).ShouldNotBeNull();
        again.State.ShouldBe(VmState.Pending);
        again.Get(VmFields.Template).ShouldBe("second life");
        (await KnownAsync(inventory, ["gone0", "gone1", "gone2"])).ShouldBe(["gone1", "gone2"]);
    }

    [Fact]
    public async Task ForgetAsync_WithinTheCap_AgeLimitStillApplies()
    {
        var inventory = Create(maxForgottenPerPool: 10);
        await inventory.AddPendingAsync(PoolA, "old", Fields(), None);
        await inventory.ForgetAsync(PoolA, "old", VmState.Pending, TimeSpan.FromHours(1), cancellationToken: None);
        Time.Advance(TimeSpan.FromMinutes(30));
        await ForgetNewAsync(inventory, PoolA, "new");

        Time.Advance(TimeSpan.FromMinutes(31));

        (await inventory.GetVmAsync("old", None)).ShouldBeNull();
        (await inventory.GetVmAsync("new", None)).ShouldNotBeNull();
    }
}
