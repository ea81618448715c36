using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Operations;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Operations;

/// <summary>The dead-letter queue contract (issue 14), run against every implementation on a manual clock.</summary>
public abstract class DeadLetterQueueContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    protected FakeTimeProvider Clock { get; } = new(T0);

    protected static OperationsOptions Options { get; } = new() { DlqEnabled = true, DlqMaxEntries = 5, DlqTtl = TimeSpan.FromHours(2) };

    protected IDeadLetterQueue Queue { get; private set; } = null!;

    protected abstract Task<IDeadLetterQueue> CreateAsync(OperationsOptions options);

    public async Task InitializeAsync() => Queue = await CreateAsync(Options);

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private Task AddAsync(string pool, string vm, DeadLetterKind kind = DeadLetterKind.Clone, string reason = "boom")
        => Queue.AddAsync(new DeadLetterEntry(vm, pool, reason, Clock.GetUtcNow(), 1, kind), CancellationToken.None).DefaultTimeout();

    [Fact]
    public async Task List_SeveralPoolsAndKinds_NewestFirstWithTotal()
    {
        await AddAsync("a", "a1");
        Clock.Advance(TimeSpan.FromSeconds(1));
        await AddAsync("b", "b1", DeadLetterKind.Pending, "not ready within 15 minutes: still booting");
        Clock.Advance(TimeSpan.FromSeconds(1));
        await AddAsync("a", "a2", DeadLetterKind.Ready);

        var page = await Queue.ListAsync(["a", "b"], 0, 10, CancellationToken.None).DefaultTimeout();

        page.Total.ShouldBe(3);
        page.Entries.Select(e => e.Vm).ShouldBe(["a2", "b1", "a1"]);
        page.Entries[1].ShouldBe(new DeadLetterEntry("b1", "b", "not ready within 15 minutes: still booting", T0.AddSeconds(1), 1, DeadLetterKind.Pending));
    }

    [Fact]
    public async Task List_PoolFilterAndPaging_OnlyThatPoolsPage()
    {
        for (var i = 0; i < 4; i++)
        {
            await AddAsync("a", "a" + i);
            await AddAsync("b", "b" + i);
            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var page = await Queue.ListAsync(["a"], 1, 2, CancellationToken.None).DefaultTimeout();

        page.Total.ShouldBe(4);
        page.Entries.Select(e => e.Vm).ShouldBe(["a2", "a1"]);
    }

    [Fact]
    public async Task Add_BeyondMaxEntries_KeepsTheNewest()
    {
        for (var i = 0; i < 8; i++)
        {
            await AddAsync("a", "a" + i);
            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var page = await Queue.ListAsync(["a"], 0, 100, CancellationToken.None).DefaultTimeout();

        page.Total.ShouldBe(5);
        page.Entries.Select(e => e.Vm).ShouldBe(["a7", "a6", "a5", "a4", "a3"]);
    }

    [Fact]
    public async Task List_EntriesOlderThanTtl_Dropped()
    {
        await AddAsync("a", "old");
        Clock.Advance(TimeSpan.FromHours(1.5));
        await AddAsync("a", "new");
        Clock.Advance(TimeSpan.FromHours(1));

        var page = await Queue.ListAsync(["a"], 0, 100, CancellationToken.None).DefaultTimeout();

        page.Entries.Select(e => e.Vm).ShouldBe(["new"]);
        (await Queue.CountAsync(["a", "b"], CancellationToken.None).DefaultTimeout()).ShouldBe(new Dictionary<string, int> { ["a"] = 1, ["b"] = 0 });
    }

    [Fact]
    public async Task Find_VmWithEntries_NewestOfThatVmOnly()
    {
        await AddAsync("a", "vm1", DeadLetterKind.Pending, "first");
        Clock.Advance(TimeSpan.FromSeconds(1));
        await AddAsync("a", "vm1", DeadLetterKind.Ready, "second");
        await AddAsync("a", "vm10", DeadLetterKind.Ready, "other vm");

        var found = await Queue.FindAsync("a", "vm1", CancellationToken.None).DefaultTimeout();

        found.ShouldNotBeNull().Reason.ShouldBe("second");
        (await Queue.FindAsync("a", "vm2", CancellationToken.None).DefaultTimeout()).ShouldBeNull();
        (await Queue.FindAsync("b", "vm1", CancellationToken.None).DefaultTimeout()).ShouldBeNull();
    }

    [Fact]
    public async Task Add_LongReasonWithJsonAndColons_StoredBoundedAndIntact()
    {
        var reason = "error: {\"x\": 1}: " + new string('z', 2000);
        await AddAsync("a", "vm1", reason: reason);

        var found = await Queue.FindAsync("a", "vm1", CancellationToken.None).DefaultTimeout();

        found.ShouldNotBeNull().Reason.ShouldBe(reason[..DeadLetterEntry.MaxReasonLength]);
    }

    [Fact]
    public async Task Add_Disabled_RecordsNothing()
    {
        var disabled = await CreateAsync(Options with { DlqEnabled = false });

        await disabled.AddAsync(new DeadLetterEntry("vm1", "a", "boom", T0, 1, DeadLetterKind.Clone), CancellationToken.None).DefaultTimeout();

        disabled.Enabled.ShouldBeFalse();
        (await disabled.ListAsync(["a"], 0, 10, CancellationToken.None).DefaultTimeout()).Total.ShouldBe(0);
    }
}
