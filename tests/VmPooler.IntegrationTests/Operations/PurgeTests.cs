using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Operations;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Manager;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Operations;

/// <summary>
/// The purge (issue 14) against the embedded inventory and a real redis-server on a manual clock: a dry run reports
/// exactly the stale VMs and changes nothing; a real purge moves exactly those (pending and ready → completed, old
/// completed dropped) and dead-letters each.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class PurgeTests(RedisFixtures redis) : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(T0);
    private readonly RedisInventories _redis = new();

    private static readonly VmPoolerOptions Options = new()
    {
        Pools = [new PoolOptions { Name = "p", Size = 5 }],
        Operations = new OperationsOptions
        {
            DlqEnabled = true,
            PurgeEnabled = true,
            MaxPendingAge = TimeSpan.FromHours(2),
            MaxReadyAge = TimeSpan.FromHours(24),
            MaxCompletedAge = TimeSpan.FromHours(1),
        },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private async Task<IInventory> InventoryAsync(bool onRedis)
        => onRedis ? await _redis.CreateAsync(redis.Server.Endpoint, _clock) : new MemoryInventory(_clock);

    private static Dictionary<string, string> At(string field, DateTimeOffset time) => new() { [field] = VmTime.Format(time) };

    /// <summary>Pending p-old (3 h) and p-new (1 h); ready r-old (25 h) and r-new (1 h); completed c-old (2 h) and c-new (10 min).</summary>
    private async Task SeedAsync(IInventory inventory)
    {
        var now = _clock.GetUtcNow();
        async Task AddAsync(string vm, TimeSpan cloned, VmState state, Dictionary<string, string>? fields = null)
        {
            (await inventory.AddPendingAsync("p", vm, At(VmFields.Clone, now - cloned), CancellationToken.None)).ShouldBeTrue();
            if (state != VmState.Pending)
            {
                (await inventory.MoveAsync("p", vm, VmState.Pending, state, fields)).ShouldBeTrue();
            }
        }

        await AddAsync("p-old", TimeSpan.FromHours(3), VmState.Pending);
        await AddAsync("p-new", TimeSpan.FromHours(1), VmState.Pending);
        await AddAsync("r-old", TimeSpan.FromHours(26), VmState.Ready, At(VmFields.Ready, now - TimeSpan.FromHours(25)));
        await AddAsync("r-new", TimeSpan.FromHours(2), VmState.Ready, At(VmFields.Ready, now - TimeSpan.FromHours(1)));
        await AddAsync("c-old", TimeSpan.FromHours(30), VmState.Completed, At(VmFields.Checkout, now - TimeSpan.FromHours(2)));
        await AddAsync("c-new", TimeSpan.FromHours(30), VmState.Completed, At(VmFields.Checkout, now - TimeSpan.FromMinutes(10)));
    }

    private PurgeService Purge(IInventory inventory, IDeadLetterQueue queue)
        => new(Options, inventory, new DeadLetterRecorder(queue, _clock, NullLogger<DeadLetterRecorder>.Instance), _clock, NullLogger<PurgeService>.Instance);

    private static async Task<string> StatesAsync(IInventory inventory)
    {
        var s = await inventory.GetPoolAsync("p", CancellationToken.None);
        static string Names(IReadOnlyList<VmRecord> vms) => string.Join(",", vms.Select(v => v.Name).Order(StringComparer.Ordinal));
        return $"pending {Names(s.Pending)}; ready {Names(s.Ready)}; completed {Names(s.Completed)}";
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Purge_DryRun_ReportsExactlyTheStaleVmsAndChangesNothing(bool onRedis)
    {
        var inventory = await InventoryAsync(onRedis);
        await SeedAsync(inventory);
        var before = await StatesAsync(inventory);
        var queue = new MemoryDeadLetterQueue(Options.Operations, _clock);

        var reported = await Purge(inventory, queue).PurgeAsync(dryRun: true, CancellationToken.None).DefaultTimeout();

        reported.Select(c => $"{c.State}:{c.Vm}").ShouldBe(["pending:p-old", "ready:r-old", "completed:c-old"]);
        (await StatesAsync(inventory)).ShouldBe(before);
        (await queue.ListAsync(["p"], 0, 10, CancellationToken.None)).Total.ShouldBe(0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Purge_Real_MovesExactlyTheStaleVmsAndDeadLettersThem(bool onRedis)
    {
        var inventory = await InventoryAsync(onRedis);
        await SeedAsync(inventory);
        var queue = new MemoryDeadLetterQueue(Options.Operations, _clock);

        var purged = await Purge(inventory, queue).PurgeAsync(dryRun: false, CancellationToken.None).DefaultTimeout();

        purged.Count.ShouldBe(3);
        (await StatesAsync(inventory)).ShouldBe("pending p-new; ready r-new; completed c-new,p-old,r-old");
        var entries = (await queue.ListAsync(["p"], 0, 10, CancellationToken.None)).Entries;
        entries.Select(e => e.Vm).Order(StringComparer.Ordinal).ShouldBe(["c-old", "p-old", "r-old"]);
        entries.ShouldAllBe(e => e.Kind == DeadLetterKind.Purge && e.Reason.StartsWith("purged: ", StringComparison.Ordinal));

        // Nothing is left to purge.
        (await Purge(inventory, queue).PurgeAsync(dryRun: false, CancellationToken.None)).ShouldBeEmpty();
    }
}
