using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Tests.Shared.Inventory;

/// <summary>
/// The whole <see cref="IInventory"/> contract, written once and run against every implementation (the Npgsql
/// specification-test pattern): derive, implement <see cref="CreateInventory"/> and <see cref="ReadTagsAsync"/>, and every
/// fact below runs against that inventory. Tests talk to the inventory only through <see cref="IInventory"/>.
/// <see cref="CreateInventory"/> must return an empty inventory that no other test shares (e.g. a fresh key prefix) and
/// that reads the given clock for every expiry. Inventories that are (async) disposable are disposed after the test.
/// </summary>
public abstract partial class InventoryContractTests : IAsyncLifetime
{
    protected const string PoolA = "pool-a";
    protected const string PoolB = "pool-b";
    protected const string PoolC = "pool-c";

    private readonly List<IInventory> _created = [];

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero));

    protected static CancellationToken None => CancellationToken.None;

    /// <summary>
    /// A new, empty inventory on <paramref name="time"/> that keeps at most <paramref name="maxForgottenPerPool"/> records
    /// of forgotten VMs per pool (<c>max_destroyed_records_per_pool</c>).
    /// </summary>
    protected abstract IInventory CreateInventory(FakeTimeProvider time, int maxForgottenPerPool);

    /// <summary>The day's tag index (<c>vm:tag</c> → value) that <see cref="IInventory.RecordTagsAsync"/> writes to.</summary>
    protected abstract Task<IReadOnlyDictionary<string, string>> ReadTagsAsync(IInventory inventory, DateOnly day);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var inventory in _created)
        {
            switch (inventory)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
                default:
                    break;
            }
        }
    }

    protected IInventory Create(int maxForgottenPerPool = OperationsOptions.DefaultMaxDestroyedRecordsPerPool)
    {
        var inventory = CreateInventory(Time, maxForgottenPerPool);
        _created.Add(inventory);
        return inventory;
    }

    protected static Dictionary<string, string> Fields(params (string Key, string Value)[] fields)
        => fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

    protected static Dictionary<string, string?> Expect(params (string Key, string? Value)[] fields)
        => fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

    protected static CheckoutItem Item(string requested, params string[] candidates)
        => new(requested, candidates.Length == 0 ? [requested] : candidates);

    protected async Task AddReadyAsync(IInventory inventory, string pool, params string[] vms)
    {
        foreach (var vm in vms)
        {
            (await inventory.AddPendingAsync(pool, vm, Fields((VmFields.Pool, pool)), None)).ShouldBeTrue();
            (await inventory.MoveAsync(pool, vm, VmState.Pending, VmState.Ready, Fields((VmFields.Ready, VmTime.Format(Time.GetUtcNow()))), cancellationToken: None))
                .ShouldBeTrue();
        }
    }

    protected async Task AddRunningAsync(IInventory inventory, string pool, string vm)
    {
        await AddReadyAsync(inventory, pool, vm);
        (await inventory.MoveAsync(pool, vm, VmState.Ready, VmState.Running, Fields((VmFields.Checkout, VmTime.Format(Time.GetUtcNow()))), cancellationToken: None))
            .ShouldBeTrue();
    }

    protected static void ShouldContainExactly<T>(IReadOnlyDictionary<string, T> actual, params (string Key, T Value)[] expected)
    {
        actual.Keys.OrderBy(k => k, StringComparer.Ordinal).ShouldBe(expected.Select(e => e.Key).OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (key, value) in expected)
        {
            actual[key].ShouldBe(value, $"value of {key}");
        }
    }

    protected static async Task<VmState?> StateOfAsync(IInventory inventory, string vm)
        => (await inventory.GetVmAsync(vm, None))?.State;

    protected static async Task<PoolCounts> CountsAsync(IInventory inventory, string pool)
        => (await inventory.GetCountsAsync([pool], None))[pool];

    protected static async Task<string> CheckoutOneAsync(IInventory inventory, string pool)
    {
        var result = await inventory.CheckoutAsync([Item(pool)], new CheckoutContext(DateTimeOffset.UnixEpoch), None);
        result.Succeeded.ShouldBeTrue();
        return result.Allocations.Single().Vm;
    }

    // ---- AddPending ----

    [Fact]
    public async Task AddPendingAsync_NewName_TrackedAsPendingWithFields()
    {
        var inventory = Create();

        var added = await inventory.AddPendingAsync(PoolA, "vm1", Fields((VmFields.Template, "tpl"), (VmFields.Pool, PoolA)), None);

        added.ShouldBeTrue();
        var vm = (await inventory.GetVmAsync("vm1", None)).ShouldNotBeNull();
        vm.Name.ShouldBe("vm1");
        vm.Pool.ShouldBe(PoolA);
        vm.State.ShouldBe(VmState.Pending);
        vm.Get(VmFields.Template).ShouldBe("tpl");
        (await CountsAsync(inventory, PoolA)).Pending.ShouldBe(1);
    }

    [Fact]
    public async Task AddPendingAsync_KnownName_RefusedAndUnchanged()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields((VmFields.Template, "first")), None);

        var again = await inventory.AddPendingAsync(PoolA, "vm1", Fields((VmFields.Template, "second")), None);
        var otherPool = await inventory.AddPendingAsync(PoolB, "vm1", Fields((VmFields.Template, "third")), None);

        again.ShouldBeFalse();
        otherPool.ShouldBeFalse();
        (await inventory.GetVmAsync("vm1", None))!.Get(VmFields.Template).ShouldBe("first");
        (await CountsAsync(inventory, PoolA)).Pending.ShouldBe(1);
        (await CountsAsync(inventory, PoolB)).Pending.ShouldBe(0);
    }

    [Fact]
    public async Task AddPendingAsync_KnownInAnotherState_Refused()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");

        (await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None)).ShouldBeFalse();

        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Running);
    }

    [Fact]
    public async Task AddPendingAsync_ForgottenWithRetainedMetadata_Refused()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None);
        await inventory.ForgetAsync(PoolA, "vm1", VmState.Pending, TimeSpan.FromHours(1), cancellationToken: None);

        (await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None)).ShouldBeFalse();
    }

    [Fact]
    public async Task AddPendingAsync_RetainedMetadataExpired_NameReusable()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None);
        await inventory.ForgetAsync(PoolA, "vm1", VmState.Pending, TimeSpan.FromHours(1), cancellationToken: None);
        Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        (await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None)).ShouldBeTrue();

        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Pending);
    }

    // ---- Move ----

    [Fact]
    public async Task MoveAsync_FromCurrentState_MovesAndSetsFields()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields((VmFields.Template, "tpl")), None);

        var moved = await inventory.MoveAsync(PoolA, "vm1", VmState.Pending, VmState.Ready, Fields((VmFields.Ready, "now")), cancellationToken: None);

        moved.ShouldBeTrue();
        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.State.ShouldBe(VmState.Ready);
        vm.Get(VmFields.Ready).ShouldBe("now");
        vm.Get(VmFields.Template).ShouldBe("tpl");
        var counts = await CountsAsync(inventory, PoolA);
        counts.Pending.ShouldBe(0);
        counts.Ready.ShouldBe(1);
    }

    [Fact]
    public async Task MoveAsync_FromWrongState_RefusedAndUnchanged()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None);

        var moved = await inventory.MoveAsync(PoolA, "vm1", VmState.Ready, VmState.Completed, Fields((VmFields.Destroy, "x")), cancellationToken: None);

        moved.ShouldBeFalse();
        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.State.ShouldBe(VmState.Pending);
        vm.Get(VmFields.Destroy).ShouldBeNull();
    }

    [Fact]
    public async Task MoveAsync_WrongPool_Refused()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None);

        (await inventory.MoveAsync(PoolB, "vm1", VmState.Pending, VmState.Ready, cancellationToken: None)).ShouldBeFalse();

        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Pending);
        (await CountsAsync(inventory, PoolB)).ShouldBe(default);
    }

    [Fact]
    public async Task MoveAsync_UnknownVm_Refused()
    {
        var inventory = Create();

        (await inventory.MoveAsync(PoolA, "ghost", VmState.Pending, VmState.Ready, cancellationToken: None)).ShouldBeFalse();

        (await inventory.GetVmAsync("ghost", None)).ShouldBeNull();
    }

    [Fact]
    public async Task MoveAsync_ForgottenVm_Refused()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None);
        await inventory.ForgetAsync(PoolA, "vm1", VmState.Pending, TimeSpan.FromHours(1), cancellationToken: None);

        (await inventory.MoveAsync(PoolA, "vm1", VmState.Pending, VmState.Ready, cancellationToken: None)).ShouldBeFalse();

        (await StateOfAsync(inventory, "vm1")).ShouldBeNull();
    }

    [Fact]
    public async Task MoveAsync_ExpectedFieldsMatch_Moves()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");
        await inventory.UpdateFieldsAsync("vm1", Fields((VmFields.Lifetime, "2")), cancellationToken: None);
        var checkout = (await inventory.GetVmAsync("vm1", None))!.Get(VmFields.Checkout);

        var moved = await inventory.MoveAsync(
            PoolA, "vm1", VmState.Running, VmState.Completed, expect: Expect((VmFields.Checkout, checkout), (VmFields.Lifetime, "2")), cancellationToken: None);

        moved.ShouldBeTrue();
        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Completed);
    }

    [Fact]
    public async Task MoveAsync_ExpectedFieldDiffers_RefusedAndFieldsNotSet()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");
        await inventory.UpdateFieldsAsync("vm1", Fields((VmFields.Lifetime, "48")), cancellationToken: None);

        var moved = await inventory.MoveAsync(
            PoolA, "vm1", VmState.Running, VmState.Completed, Fields((VmFields.Destroy, "x")), Expect((VmFields.Lifetime, "24")), None);

        moved.ShouldBeFalse();
        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.State.ShouldBe(VmState.Running);
        vm.Get(VmFields.Destroy).ShouldBeNull();
    }

    [Fact]
    public async Task MoveAsync_ExpectAbsentAndFieldAbsent_Moves()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");

        (await inventory.MoveAsync(PoolA, "vm1", VmState.Running, VmState.Completed, expect: Expect((VmFields.Lifetime, null)), cancellationToken: None))
            .ShouldBeTrue();
    }

    [Fact]
    public async Task MoveAsync_ExpectAbsentButFieldPresent_Refused()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");
        await inventory.UpdateFieldsAsync("vm1", Fields((VmFields.Lifetime, "48")), cancellationToken: None);

        (await inventory.MoveAsync(PoolA, "vm1", VmState.Running, VmState.Completed, expect: Expect((VmFields.Lifetime, null)), cancellationToken: None))
            .ShouldBeFalse();

        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Running);
    }

    [Fact]
    public async Task MoveAsync_ExpectValueButFieldAbsent_Refused()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");

        (await inventory.MoveAsync(PoolA, "vm1", VmState.Running, VmState.Completed, expect: Expect((VmFields.Lifetime, "24")), cancellationToken: None))
            .ShouldBeFalse();

        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Running);
    }

    [Fact]
    public async Task MoveAsync_ToReady_BecomesNewestReady()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1", "vm2");
        (await inventory.MoveAsync(PoolA, "vm1", VmState.Ready, VmState.Pending, cancellationToken: None)).ShouldBeTrue();
        (await inventory.MoveAsync(PoolA, "vm1", VmState.Pending, VmState.Ready, cancellationToken: None)).ShouldBeTrue();

        var first = await CheckoutOneAsync(inventory, PoolA);
        var second = await CheckoutOneAsync(inventory, PoolA);

        first.ShouldBe("vm2");
        second.ShouldBe("vm1");
    }

    // ---- Forget ----

    [Fact]
    public async Task ForgetAsync_WithRetention_MetadataKeptWithoutStateUntilTtl()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");
        await inventory.MoveAsync(PoolA, "vm1", VmState.Ready, VmState.Completed, cancellationToken: None);

        var forgotten = await inventory.ForgetAsync(PoolA, "vm1", VmState.Completed, TimeSpan.FromHours(2), Fields((VmFields.Destroy, "gone")), None);

        forgotten.ShouldBeTrue();
        var vm = (await inventory.GetVmAsync("vm1", None)).ShouldNotBeNull();
        vm.State.ShouldBeNull();
        vm.Pool.ShouldBe(PoolA);
        vm.Get(VmFields.Destroy).ShouldBe("gone");
        vm.Get(VmFields.Pool).ShouldBe(PoolA);
        (await CountsAsync(inventory, PoolA)).ShouldBe(default);
        (await inventory.GetPoolAsync(PoolA, None)).Names().Contains("vm1").ShouldBeFalse();

        Time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        (await inventory.GetVmAsync("vm1", None)).ShouldNotBeNull();

        Time.Advance(TimeSpan.FromSeconds(2));
        (await inventory.GetVmAsync("vm1", None)).ShouldBeNull();
    }

    [Fact]
    public async Task ForgetAsync_NoRetention_DeletedAtOnce()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None);

        (await inventory.ForgetAsync(PoolA, "vm1", VmState.Pending, null, cancellationToken: None)).ShouldBeTrue();

        (await inventory.GetVmAsync("vm1", None)).ShouldBeNull();
        (await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None)).ShouldBeTrue();
    }

    [Fact]
    public async Task ForgetAsync_WrongState_RefusedAndUnchanged()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");

        (await inventory.ForgetAsync(PoolA, "vm1", VmState.Completed, TimeSpan.FromHours(1), Fields((VmFields.Destroy, "x")), None)).ShouldBeFalse();

        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.State.ShouldBe(VmState.Ready);
        vm.Get(VmFields.Destroy).ShouldBeNull();
    }

    [Fact]
    public async Task ForgetAsync_AlreadyForgotten_Refused()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None);
        await inventory.ForgetAsync(PoolA, "vm1", VmState.Pending, TimeSpan.FromHours(1), cancellationToken: None);

        (await inventory.ForgetAsync(PoolA, "vm1", VmState.Pending, TimeSpan.FromHours(1), cancellationToken: None)).ShouldBeFalse();
    }

    // ---- AdoptDiscovered ----

    [Fact]
    public async Task AdoptDiscoveredAsync_UnknownVm_TrackedAsCompleted()
    {
        var inventory = Create();

        var adopted = await inventory.AdoptDiscoveredAsync(PoolA, "stray", Fields((VmFields.Discovered, "now")), None);

        adopted.ShouldBeTrue();
        var vm = (await inventory.GetVmAsync("stray", None))!;
        vm.State.ShouldBe(VmState.Completed);
        vm.Pool.ShouldBe(PoolA);
        vm.Get(VmFields.Discovered).ShouldBe("now");
        (await CountsAsync(inventory, PoolA)).Completed.ShouldBe(1);
    }

    [Fact]
    public async Task AdoptDiscoveredAsync_ForgottenWithMetadata_CompletedAgain()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields((VmFields.Template, "tpl")), None);
        await inventory.ForgetAsync(PoolA, "vm1", VmState.Pending, TimeSpan.FromHours(1), Fields((VmFields.CloneError, "boom")), None);

        var adopted = await inventory.AdoptDiscoveredAsync(PoolA, "vm1", Fields((VmFields.Discovered, "now")), None);

        adopted.ShouldBeTrue();
        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.State.ShouldBe(VmState.Completed);
        vm.Get(VmFields.Discovered).ShouldBe("now");
        (await CountsAsync(inventory, PoolA)).Completed.ShouldBe(1);

        // Tracked again: the retention no longer applies.
        Time.Advance(TimeSpan.FromHours(2));
        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Completed);
    }

    [Theory]
    [InlineData(VmState.Pending)]
    [InlineData(VmState.Ready)]
    [InlineData(VmState.Running)]
    [InlineData(VmState.Completed)]
    public async Task AdoptDiscoveredAsync_TrackedVm_RefusedAndUnchanged(VmState state)
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None);
        if (state != VmState.Pending)
        {
            await inventory.MoveAsync(PoolA, "vm1", VmState.Pending, state, cancellationToken: None);
        }

        (await inventory.AdoptDiscoveredAsync(PoolA, "vm1", Fields((VmFields.Discovered, "now")), None)).ShouldBeFalse();

        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.State.ShouldBe(state);
        vm.Get(VmFields.Discovered).ShouldBeNull();
    }

    // ---- UpdateFields ----

    [Fact]
    public async Task UpdateFieldsAsync_KnownVm_SetsAndRemoves()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(("a", "1"), ("b", "2")), None);

        var updated = await inventory.UpdateFieldsAsync("vm1", Fields(("a", "10"), ("c", "3")), ["b"], None);

        updated.ShouldBeTrue();
        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.Get("a").ShouldBe("10");
        vm.Get("b").ShouldBeNull();
        vm.Get("c").ShouldBe("3");
        vm.State.ShouldBe(VmState.Pending);
    }

    [Fact]
    public async Task UpdateFieldsAsync_UnknownVm_False()
    {
        var inventory = Create();

        (await inventory.UpdateFieldsAsync("ghost", Fields(("a", "1")), cancellationToken: None)).ShouldBeFalse();

        (await inventory.GetVmAsync("ghost", None)).ShouldBeNull();
    }

    // ---- SetField ----

    [Fact]
    public async Task SetFieldAsync_SeveralVmsOfThePool_SetsEachOneInOneCall()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1", "vm2");
        await inventory.AddPendingAsync(PoolA, "vm3", Fields(("a", "1")), None);

        var set = await inventory.SetFieldAsync(PoolA, ["vm1", "vm2", "vm3"], VmFields.Check, "stamp", None);

        set.ShouldBe(3);
        foreach (var name in new[] { "vm1", "vm2", "vm3" })
        {
            (await inventory.GetVmAsync(name, None))!.Get(VmFields.Check).ShouldBe("stamp");
        }

        (await inventory.GetVmAsync("vm3", None))!.Get("a").ShouldBe("1");
        var counts = await CountsAsync(inventory, PoolA);
        (counts.Pending, counts.Ready).ShouldBe((1, 2));
    }

    [Fact]
    public async Task SetFieldAsync_UnknownForgottenOrOtherPoolsVms_SkippedAndNotCreated()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");
        await AddReadyAsync(inventory, PoolB, "other");
        await inventory.AddPendingAsync(PoolA, "gone", Fields(("a", "1")), None);
        await inventory.ForgetAsync(PoolA, "gone", VmState.Pending, TimeSpan.FromHours(1), cancellationToken: None);

        var set = await inventory.SetFieldAsync(PoolA, ["vm1", "ghost", "gone", "other"], VmFields.Check, "stamp", None);

        set.ShouldBe(1);
        (await inventory.GetVmAsync("vm1", None))!.Get(VmFields.Check).ShouldBe("stamp");
        (await inventory.GetVmAsync("ghost", None)).ShouldBeNull();
        (await inventory.GetVmAsync("gone", None))?.Get(VmFields.Check).ShouldBeNull();
        (await inventory.GetVmAsync("other", None))!.Get(VmFields.Check).ShouldBeNull();
    }

    [Fact]
    public async Task SetFieldAsync_NoVms_Zero()
    {
        var inventory = Create();

        (await inventory.SetFieldAsync(PoolA, [], VmFields.Check, "stamp", None)).ShouldBe(0);
    }

    // ---- Checkout ----

    [Fact]
    public async Task CheckoutAsync_ThreeReadyInOrder_OldestFirst()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1", "vm2", "vm3");

        var result = await inventory.CheckoutAsync([Item(PoolA)], new CheckoutContext(Time.GetUtcNow()), None);

        result.Succeeded.ShouldBeTrue();
        result.Allocations.ShouldBe([new Allocation(PoolA, PoolA, "vm1")]);
        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Running);
        (await CheckoutOneAsync(inventory, PoolA)).ShouldBe("vm2");
        (await CheckoutOneAsync(inventory, PoolA)).ShouldBe("vm3");
    }

    [Fact]
    public async Task CheckoutAsync_SeveralItemsOfOnePool_OldestInOrder()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1", "vm2", "vm3");

        var result = await inventory.CheckoutAsync([Item(PoolA), Item(PoolA)], new CheckoutContext(Time.GetUtcNow()), None);

        result.Allocations.Select(a => a.Vm).ShouldBe(["vm1", "vm2"]);
        var counts = await CountsAsync(inventory, PoolA);
        counts.Ready.ShouldBe(1);
        counts.Running.ShouldBe(2);
    }

    [Fact]
    public async Task CheckoutAsync_EmptyPool_FailsNamingIt()
    {
        var inventory = Create();

        var result = await inventory.CheckoutAsync([Item(PoolA)], new CheckoutContext(Time.GetUtcNow()), None);

        result.Succeeded.ShouldBeFalse();
        result.FailedRequestedName.ShouldBe(PoolA);
        result.Allocations.ShouldBeEmpty();
    }

    [Fact]
    public async Task CheckoutAsync_OnePoolOfSeveralEmpty_NothingMovedAndOrderKept()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1", "a2");
        await AddReadyAsync(inventory, PoolC, "c1");

        var result = await inventory.CheckoutAsync([Item(PoolA), Item(PoolC), Item(PoolB)], new CheckoutContext(Time.GetUtcNow(), "token", "user", 5), None);

        result.Succeeded.ShouldBeFalse();
        result.FailedRequestedName.ShouldBe(PoolB);
        result.Allocations.ShouldBeEmpty();
        (await CountsAsync(inventory, PoolA)).ShouldBe(new PoolCounts(0, 2, 0, 0));
        (await CountsAsync(inventory, PoolC)).ShouldBe(new PoolCounts(0, 1, 0, 0));
        foreach (var name in new[] { "a1", "a2", "c1" })
        {
            var vm = (await inventory.GetVmAsync(name, None))!;
            vm.State.ShouldBe(VmState.Ready);
            vm.Get(VmFields.Checkout).ShouldBeNull();
            vm.Get(VmFields.Token).ShouldBeNull();
        }

        (await CheckoutOneAsync(inventory, PoolA)).ShouldBe("a1");
        (await CheckoutOneAsync(inventory, PoolA)).ShouldBe("a2");
    }

    [Fact]
    public async Task CheckoutAsync_MorePoolItemsThanReady_NothingMoved()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1", "a2");

        var result = await inventory.CheckoutAsync([Item(PoolA), Item(PoolA), Item(PoolA)], new CheckoutContext(Time.GetUtcNow()), None);

        result.FailedRequestedName.ShouldBe(PoolA);
        (await CountsAsync(inventory, PoolA)).Ready.ShouldBe(2);
        (await CheckoutOneAsync(inventory, PoolA)).ShouldBe("a1");
    }

    [Fact]
    public async Task CheckoutAsync_MultiPool_AllocatesEachItem()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1");
        await AddReadyAsync(inventory, PoolB, "b1");

        var result = await inventory.CheckoutAsync([Item(PoolA), Item(PoolB)], new CheckoutContext(Time.GetUtcNow()), None);

        result.Succeeded.ShouldBeTrue();
        result.Allocations.ShouldBe([new Allocation(PoolA, PoolA, "a1"), new Allocation(PoolB, PoolB, "b1")]);
        (await StateOfAsync(inventory, "a1")).ShouldBe(VmState.Running);
        (await StateOfAsync(inventory, "b1")).ShouldBe(VmState.Running);
    }

    [Fact]
    public async Task CheckoutAsync_Candidates_TriedInOrder()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolB, "b1");
        await AddReadyAsync(inventory, PoolC, "c1");

        var first = await inventory.CheckoutAsync([Item("alias", PoolA, PoolB, PoolC)], new CheckoutContext(Time.GetUtcNow()), None);
        var second = await inventory.CheckoutAsync([Item("alias", PoolA, PoolB, PoolC)], new CheckoutContext(Time.GetUtcNow()), None);
        var third = await inventory.CheckoutAsync([Item("alias", PoolA, PoolB, PoolC)], new CheckoutContext(Time.GetUtcNow()), None);

        first.Allocations.ShouldBe([new Allocation("alias", PoolB, "b1")]);
        second.Allocations.ShouldBe([new Allocation("alias", PoolC, "c1")]);
        third.FailedRequestedName.ShouldBe("alias");
    }

    [Fact]
    public async Task CheckoutAsync_LaterCandidateFirstInList_PreferredOverEarlierPool()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1");
        await AddReadyAsync(inventory, PoolB, "b1");

        var result = await inventory.CheckoutAsync([Item("alias", PoolB, PoolA)], new CheckoutContext(Time.GetUtcNow()), None);

        result.Allocations.Single().Vm.ShouldBe("b1");
    }

    [Fact]
    public async Task CheckoutAsync_Context_SetsCheckoutTokenAndLifetime()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");
        var now = Time.GetUtcNow();

        await inventory.CheckoutAsync([Item(PoolA)], new CheckoutContext(now, "secret-token", "alice", 12), None);

        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.View.CheckedOut.ShouldBe(now);
        vm.Get(VmFields.Token).ShouldBe("secret-token");
        vm.Get(VmFields.TokenUser).ShouldBe("alice");
        vm.Get(VmFields.Lifetime).ShouldBe("12");
    }

    [Fact]
    public async Task CheckoutAsync_NoToken_OnlyCheckoutSet()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");
        var now = Time.GetUtcNow();

        await inventory.CheckoutAsync([Item(PoolA)], new CheckoutContext(now), None);

        var vm = (await inventory.GetVmAsync("vm1", None))!;
        vm.View.CheckedOut.ShouldBe(now);
        vm.Get(VmFields.Token).ShouldBeNull();
        vm.Get(VmFields.TokenUser).ShouldBeNull();
        vm.Get(VmFields.Lifetime).ShouldBeNull();
    }

    [Fact]
    public async Task CheckoutAsync_MultiItem_ContextAppliedToEveryVm()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1");
        await AddReadyAsync(inventory, PoolB, "b1");
        var now = Time.GetUtcNow();

        await inventory.CheckoutAsync([Item(PoolA), Item(PoolB)], new CheckoutContext(now, "tok", "bob", 3), None);

        foreach (var name in new[] { "a1", "b1" })
        {
            var vm = (await inventory.GetVmAsync(name, None))!;
            vm.View.CheckedOut.ShouldBe(now);
            vm.Get(VmFields.Token).ShouldBe("tok");
            vm.Get(VmFields.TokenUser).ShouldBe("bob");
            vm.Get(VmFields.Lifetime).ShouldBe("3");
        }
    }

    [Fact]
    public async Task CheckoutAsync_OnlyPendingOrRunningVms_Fails()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "pending", Fields(), None);
        await AddRunningAsync(inventory, PoolA, "running");

        var result = await inventory.CheckoutAsync([Item(PoolA)], new CheckoutContext(Time.GetUtcNow()), None);

        result.Succeeded.ShouldBeFalse();
        (await StateOfAsync(inventory, "pending")).ShouldBe(VmState.Pending);
    }

    // ---- Return ----

    [Fact]
    public async Task ReturnAsync_UnknownVm_UnknownVm()
    {
        var inventory = Create();

        var outcome = await inventory.ReturnAsync("ghost", None);

        outcome.Status.ShouldBe(ReturnStatus.UnknownVm);
        outcome.Pool.ShouldBeNull();
    }

    [Fact]
    public async Task ReturnAsync_ReadyVm_NotRunningAndUnchanged()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");

        var outcome = await inventory.ReturnAsync("vm1", None);

        outcome.ShouldBe(new ReturnOutcome(ReturnStatus.NotRunning, PoolA));
        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Ready);
    }

    [Fact]
    public async Task ReturnAsync_RunningVm_Completed()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");
        await CheckoutOneAsync(inventory, PoolA);

        var outcome = await inventory.ReturnAsync("vm1", None);

        outcome.ShouldBe(new ReturnOutcome(ReturnStatus.Returned, PoolA));
        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Completed);
        (await CountsAsync(inventory, PoolA)).ShouldBe(new PoolCounts(0, 0, 0, 1));
    }

    [Fact]
    public async Task ReturnAsync_ReturnedTwice_SecondNotRunning()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");
        await inventory.ReturnAsync("vm1", None);

        var outcome = await inventory.ReturnAsync("vm1", None);

        outcome.Status.ShouldBe(ReturnStatus.NotRunning);
        (await CountsAsync(inventory, PoolA)).Completed.ShouldBe(1);
    }

    [Fact]
    public async Task ReturnAsync_RecordOfRunningVm_Completed()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");
        var record = (await inventory.GetVmAsync("vm1", None))!;

        var outcome = await inventory.ReturnAsync(record, None);

        outcome.ShouldBe(new ReturnOutcome(ReturnStatus.Returned, PoolA));
        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Completed);
    }

    [Fact]
    public async Task ReturnAsync_RecordOfVmForgottenSince_UnknownVm()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "vm1");
        var record = (await inventory.GetVmAsync("vm1", None))!;
        (await inventory.ForgetAsync(PoolA, "vm1", VmState.Running, keepMetadataFor: null, cancellationToken: None)).ShouldBeTrue();

        var outcome = await inventory.ReturnAsync(record, None);

        outcome.Status.ShouldBe(ReturnStatus.UnknownVm);
        (await CountsAsync(inventory, PoolA)).ShouldBe(new PoolCounts(0, 0, 0, 0));
    }

    [Fact]
    public async Task ReturnUnownedAsync_RunningVmWithoutToken_Completed()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");
        await CheckoutOneAsync(inventory, PoolA);

        var outcome = await inventory.ReturnUnownedAsync("vm1", None);

        outcome.ShouldBe(new ReturnOutcome(ReturnStatus.Returned, PoolA));
        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Completed);
        (await CountsAsync(inventory, PoolA)).ShouldBe(new PoolCounts(0, 0, 0, 1));
    }

    [Fact]
    public async Task ReturnUnownedAsync_VmCheckedOutWithToken_OwnedAndUnchanged()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");
        var context = new CheckoutContext(Time.GetUtcNow()) { Token = "token-hash", User = "alice" };
        (await inventory.CheckoutAsync([Item(PoolA)], context, None)).Succeeded.ShouldBeTrue();

        var outcome = await inventory.ReturnUnownedAsync("vm1", None);

        outcome.ShouldBe(new ReturnOutcome(ReturnStatus.Owned, PoolA));
        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Running);
        (await inventory.ReturnAsync("vm1", None)).ShouldBe(new ReturnOutcome(ReturnStatus.Returned, PoolA));
    }

    [Fact]
    public async Task ReturnUnownedAsync_ReadyOrUnknownVm_NotReturned()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");

        (await inventory.ReturnUnownedAsync("vm1", None)).ShouldBe(new ReturnOutcome(ReturnStatus.NotRunning, PoolA));
        (await inventory.ReturnUnownedAsync("ghost", None)).ShouldBe(new ReturnOutcome(ReturnStatus.UnknownVm, null));
        (await StateOfAsync(inventory, "vm1")).ShouldBe(VmState.Ready);
    }

    [Fact]
    public async Task ReturnUnownedAsync_NameHandedOutFromOnePoolThenReusedInAnother_ReturnedFromTheOther()
    {
        // The inventory may remember which pool it handed a name out from; the name must still be found where it is now.
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");
        await CheckoutOneAsync(inventory, PoolA);
        (await inventory.ForgetAsync(PoolA, "vm1", VmState.Running, keepMetadataFor: null, cancellationToken: None)).ShouldBeTrue();
        await AddRunningAsync(inventory, PoolB, "vm1");

        var outcome = await inventory.ReturnUnownedAsync("vm1", None);

        outcome.ShouldBe(new ReturnOutcome(ReturnStatus.Returned, PoolB));
        (await CountsAsync(inventory, PoolB)).ShouldBe(new PoolCounts(0, 0, 0, 1));
        (await CountsAsync(inventory, PoolA)).ShouldBe(new PoolCounts(0, 0, 0, 0));
    }

    [Fact]
    public async Task GetVmAsync_NameHandedOutFromOnePoolThenReusedInAnother_TheOtherPoolsVm()
    {
        // The inventory may remember which pool it handed a name out from; the name must still be found where it is now.
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "vm1");
        await CheckoutOneAsync(inventory, PoolA);
        (await inventory.ForgetAsync(PoolA, "vm1", VmState.Running, keepMetadataFor: null, cancellationToken: None)).ShouldBeTrue();
        await AddRunningAsync(inventory, PoolB, "vm1");

        var record = await inventory.GetVmAsync("vm1", None);

        record.ShouldNotBeNull();
        record.Pool.ShouldBe(PoolB);
        record.View.State.ShouldBe(VmState.Running);
    }

    // ---- Snapshots and counts ----

    [Fact]
    public async Task GetPoolAsync_VmsInEveryState_GroupedWithMetadata()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "p1", Fields(("k", "v")), None);
        await AddReadyAsync(inventory, PoolA, "r1");
        await AddRunningAsync(inventory, PoolA, "u1");
        await inventory.AdoptDiscoveredAsync(PoolA, "c1", Fields(), None);
        await AddReadyAsync(inventory, PoolB, "other");

        var snapshot = await inventory.GetPoolAsync(PoolA, None);

        snapshot.Pool.ShouldBe(PoolA);
        snapshot.Pending.Select(v => v.Name).ShouldBe(["p1"]);
        snapshot.Pending[0].Get("k").ShouldBe("v");
        snapshot.Ready.Select(v => v.Name).ShouldBe(["r1"]);
        snapshot.Running.Select(v => v.Name).ShouldBe(["u1"]);
        snapshot.Completed.Select(v => v.Name).ShouldBe(["c1"]);
        snapshot.Names().Contains("other").ShouldBeFalse();
    }

    [Fact]
    public async Task GetPoolAsync_UnknownPool_Empty()
    {
        var inventory = Create();

        var snapshot = await inventory.GetPoolAsync("nope", None);

        snapshot.Pending.ShouldBeEmpty();
        snapshot.Ready.ShouldBeEmpty();
        snapshot.Running.ShouldBeEmpty();
        snapshot.Completed.ShouldBeEmpty();
    }

    [Fact]
    public async Task GetCountsAsync_EveryState_CountedWithCloning()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "cloning", Fields(), None);
        await inventory.AddPendingAsync(PoolA, "booting", Fields((VmFields.CloneTime, "12.5")), None);
        await AddReadyAsync(inventory, PoolA, "r1", "r2", "r3");
        await AddRunningAsync(inventory, PoolA, "u1");
        await inventory.AdoptDiscoveredAsync(PoolA, "c1", Fields(), None);
        await AddReadyAsync(inventory, PoolB, "b1");

        var counts = await inventory.GetCountsAsync([PoolA, PoolB, "unknown"], None);

        counts[PoolA].ShouldBe(new PoolCounts(Pending: 2, Ready: 3, Running: 1, Completed: 1, Cloning: 1));
        counts[PoolB].ShouldBe(new PoolCounts(0, 1, 0, 0, 0));
        counts["unknown"].ShouldBe(default);
    }

    [Fact]
    public async Task GetTallyAsync_CountsAndCompletedNames()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "cloning", Fields(), None);
        await AddReadyAsync(inventory, PoolA, "r1", "r2");
        await AddRunningAsync(inventory, PoolA, "u1");
        await AddRunningAsync(inventory, PoolA, "u2");
        await inventory.ReturnAsync("u1", None);
        await inventory.AdoptDiscoveredAsync(PoolA, "c1", Fields(), None);
        await AddReadyAsync(inventory, PoolB, "b1");

        var tally = await inventory.GetTallyAsync(PoolA, None);
        var other = await inventory.GetTallyAsync(PoolB, None);
        var unknown = await inventory.GetTallyAsync("unknown", None);

        tally.Counts.ShouldBe(new PoolCounts(Pending: 1, Ready: 2, Running: 1, Completed: 2, Cloning: 1));
        tally.Completed.Order(StringComparer.Ordinal).ShouldBe(["c1", "u1"]);
        other.Counts.ShouldBe(new PoolCounts(0, 1, 0, 0, 0));
        other.Completed.ShouldBeEmpty();
        unknown.Counts.ShouldBe(default);
        unknown.Completed.ShouldBeEmpty();
    }

    [Fact]
    public async Task GetCountsAsync_CloneTimeSetLater_NoLongerCloning()
    {
        var inventory = Create();
        await inventory.AddPendingAsync(PoolA, "vm1", Fields(), None);
        (await CountsAsync(inventory, PoolA)).Cloning.ShouldBe(1);

        await inventory.UpdateFieldsAsync("vm1", Fields((VmFields.CloneTime, "3")), cancellationToken: None);

        (await CountsAsync(inventory, PoolA)).Cloning.ShouldBe(0);
        (await CountsAsync(inventory, PoolA)).Pending.ShouldBe(1);
    }

    // ---- Statistics ----

    [Fact]
    public async Task RecordDurationAsync_DifferentUtcDays_KeptPerDayAndKind()
    {
        var inventory = Create();
        var lateDay1 = new DateTimeOffset(2026, 3, 10, 23, 30, 0, TimeSpan.Zero);
        var earlyDay2 = new DateTimeOffset(2026, 3, 11, 0, 30, 0, TimeSpan.Zero);
        var day1InOtherZone = new DateTimeOffset(2026, 3, 11, 1, 0, 0, TimeSpan.FromHours(2)); // 23:00 UTC on the 10th

        await inventory.RecordDurationAsync(DurationKind.Clone, PoolA, "vm1", 12.5, lateDay1, None);
        await inventory.RecordDurationAsync(DurationKind.Clone, PoolA, "vm2", 7, earlyDay2, None);
        await inventory.RecordDurationAsync(DurationKind.Clone, PoolB, "vm3", 3.25, day1InOtherZone, None);
        await inventory.RecordDurationAsync(DurationKind.Boot, PoolA, "vm1", 40, lateDay1, None);

        var clones1 = await inventory.GetDurationsAsync(DurationKind.Clone, new DateOnly(2026, 3, 10), None);
        var clones2 = await inventory.GetDurationsAsync(DurationKind.Clone, new DateOnly(2026, 3, 11), None);
        var boots1 = await inventory.GetDurationsAsync(DurationKind.Boot, new DateOnly(2026, 3, 10), None);
        var none = await inventory.GetDurationsAsync(DurationKind.Boot, new DateOnly(2026, 3, 12), None);

        ShouldContainExactly(clones1, ($"{PoolA}:vm1", 12.5), ($"{PoolB}:vm3", 3.25));
        ShouldContainExactly(clones2, ($"{PoolA}:vm2", 7.0));
        ShouldContainExactly(boots1, ($"{PoolA}:vm1", 40.0));
        none.ShouldBeEmpty();
    }

    [Fact]
    public async Task GetLastBootAsync_BootDurations_LatestPerPool()
    {
        var inventory = Create();
        var t1 = Time.GetUtcNow();
        var t2 = t1 + TimeSpan.FromMinutes(5);

        (await inventory.GetLastBootAsync(None)).ShouldBeEmpty();
        await inventory.RecordDurationAsync(DurationKind.Boot, PoolA, "vm1", 30, t1, None);
        (await inventory.GetLastBootAsync(None))[PoolA].ShouldBe(t1);

        await inventory.RecordDurationAsync(DurationKind.Boot, PoolA, "vm2", 31, t2, None);
        await inventory.RecordDurationAsync(DurationKind.Clone, PoolB, "vm3", 10, t2, None);

        var lastBoot = await inventory.GetLastBootAsync(None);
        lastBoot[PoolA].ShouldBe(t2);
        lastBoot.ContainsKey(PoolB).ShouldBeFalse();
    }

    [Fact]
    public async Task RecordCloneAndBootAsync_BothDurationsAndTheLastBoot_AsRecordedOneByOne()
    {
        var inventory = Create();
        var at = new DateTimeOffset(2026, 3, 10, 23, 30, 0, TimeSpan.FromHours(-1)); // 00:30 UTC on the 11th

        await inventory.RecordCloneAndBootAsync(PoolA, "vm1", 2.5, 7.25, at, None);
        await inventory.RecordCloneAndBootAsync(PoolB, "vm2", 0, 0, at, None);

        ShouldContainExactly(await inventory.GetDurationsAsync(DurationKind.Clone, new DateOnly(2026, 3, 11), None), ($"{PoolA}:vm1", 2.5), ($"{PoolB}:vm2", 0.0));
        ShouldContainExactly(await inventory.GetDurationsAsync(DurationKind.Boot, new DateOnly(2026, 3, 11), None), ($"{PoolA}:vm1", 7.25), ($"{PoolB}:vm2", 0.0));
        (await inventory.GetDurationsAsync(DurationKind.Clone, new DateOnly(2026, 3, 10), None)).ShouldBeEmpty("the day is the UTC day");
        var lastBoot = await inventory.GetLastBootAsync(None);
        lastBoot[PoolA].ShouldBe(at);
        lastBoot[PoolB].ShouldBe(at);
    }

    [Fact]
    public async Task RecordTagsAsync_Tags_IndexedPerDay()
    {
        var inventory = Create();
        var day = new DateOnly(2026, 3, 10);

        await inventory.RecordTagsAsync("vm1", Fields(("project", "alpha"), ("owner", "ann")), day, None);
        await inventory.RecordTagsAsync("vm2", Fields(("project", "beta")), day, None);
        await inventory.RecordTagsAsync("vm1", Fields(("project", "gamma")), day.AddDays(1), None);

        ShouldContainExactly(await ReadTagsAsync(inventory, day), ("vm1:project", "alpha"), ("vm1:owner", "ann"), ("vm2:project", "beta"));
        ShouldContainExactly(await ReadTagsAsync(inventory, day.AddDays(1)), ("vm1:project", "gamma"));
        (await ReadTagsAsync(inventory, day.AddDays(2))).ShouldBeEmpty();
    }

    // ---- Pool change events ----

    [Fact]
    public async Task SubscribePoolChanges_Checkout_Notified()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1");
        await AddReadyAsync(inventory, PoolB, "b1");
        var seen = new ConcurrentQueue<string>();
        using var subscription = inventory.SubscribePoolChanges(seen.Enqueue);

        await inventory.CheckoutAsync([Item(PoolA), Item(PoolB)], new CheckoutContext(Time.GetUtcNow()), None);

        await AsyncTestHelpers.WaitUntilAsync(() => seen.Contains(PoolA) && seen.Contains(PoolB), "both pools are reported");
    }

    [Fact]
    public async Task SubscribePoolChanges_Return_Notified()
    {
        var inventory = Create();
        await AddRunningAsync(inventory, PoolA, "a1");
        var seen = new ConcurrentQueue<string>();
        using var subscription = inventory.SubscribePoolChanges(seen.Enqueue);

        await inventory.ReturnAsync("a1", None);

        await AsyncTestHelpers.WaitUntilAsync(() => seen.Contains(PoolA), "the return is reported");
    }

    [Fact]
    public async Task SubscribePoolChanges_AfterDispose_NotNotified()
    {
        var inventory = Create();
        await AddReadyAsync(inventory, PoolA, "a1", "a2");
        var disposed = new ConcurrentQueue<string>();
        var subscription = inventory.SubscribePoolChanges(disposed.Enqueue);
        await inventory.CheckoutAsync([Item(PoolA)], new CheckoutContext(Time.GetUtcNow()), None);
        await AsyncTestHelpers.WaitUntilAsync(() => disposed.Contains(PoolA), "the first checkout is reported");

        subscription.Dispose();
        var count = disposed.Count;
        var witness = new ConcurrentQueue<string>();
        using var later = inventory.SubscribePoolChanges(witness.Enqueue);
        await inventory.CheckoutAsync([Item(PoolA)], new CheckoutContext(Time.GetUtcNow()), None);
        await inventory.ReturnAsync("a1", None);

        // Once a live subscriber has seen both events, the disposed one would have seen them too.
        await AsyncTestHelpers.WaitUntilAsync(() => witness.Count(p => p == PoolA) >= 2, "the live subscriber sees both events");
        disposed.Count.ShouldBe(count);
    }
}
