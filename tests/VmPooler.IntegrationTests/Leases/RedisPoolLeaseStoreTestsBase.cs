using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Redis;
using VmPooler.Tests.Shared;
using VmPooler.Tests.Shared.Leases;

namespace VmPooler.IntegrationTests.Leases;

/// <summary>
/// The lease contract against <see cref="RedisPoolLeaseStore"/>, plus what only Redis has: the key layout, Redis' own
/// expiry (PX) and unreadable registry entries. Each test owns a fresh key prefix; every <see cref="ConnectAsync"/> is a
/// new connection under it (another process). <see cref="ExpireAsync"/> deletes the keys, which is what Redis does when
/// their PX runs out (the store reads no clock of its own to decide expiry); one test per kind of key lets a short PX
/// lapse for real.
/// </summary>
public abstract class RedisPoolLeaseStoreTestsBase : PoolLeaseStoreContractTests
{
    private readonly RedisInventories _connections = new();
    private readonly string _prefix = RedisFixtures.NewPrefix();
    private RedisConnection? _admin;

    /// <summary>What <c>redis.server</c> is set to.</summary>
    protected abstract string Endpoints { get; }

    protected override async Task<IPoolLeaseStore> ConnectAsync() => Create(await _connections.ConnectAsync(Endpoints, _prefix), Time);

    protected override async Task ExpireAsync(IReadOnlyCollection<string> pools, IReadOnlyCollection<string> managers)
    {
        Time.Advance(Ttl + TimeSpan.FromMilliseconds(1));
        var admin = await AdminAsync();
        var keys = pools.Select(admin.Keys.PoolLease).Concat(managers.Select(admin.Keys.Manager));
        await Task.WhenAll(keys.Select(key => admin.Database.KeyDeleteAsync(key))).DefaultTimeout();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _connections.DisposeAsync();
    }

    private static RedisPoolLeaseStore Create(RedisConnection connection, TimeProvider time)
        => new(connection, time, NullLogger<RedisPoolLeaseStore>.Instance);

    private async Task<RedisConnection> AdminAsync() => _admin ??= await _connections.ConnectAsync(Endpoints, _prefix);

    [Fact]
    public async Task AcquireAsync_LeaseKey_HoldsTheOwnerOnThePoolsSlotWithThePx()
    {
        var store = await StoreAsync();
        var admin = await AdminAsync();

        await AcquireAsync(store, "m1", "alpha");

        ((string?)await admin.Database.StringGetAsync($"{_prefix}:{{alpha}}:lease")).ShouldBe("m1");
        var ttl = await admin.Database.KeyTimeToLiveAsync(admin.Keys.PoolLease("alpha"));
        ttl.ShouldNotBeNull();
        ttl.Value.ShouldBeInRange(Ttl - TimeSpan.FromSeconds(5), Ttl);
    }

    [Fact]
    public async Task AcquireAsync_Renewal_ResetsThePx()
    {
        var store = await StoreAsync();
        var admin = await AdminAsync();
        await AcquireAsync(store, "m1", "alpha");
        await admin.Database.KeyExpireAsync(admin.Keys.PoolLease("alpha"), TimeSpan.FromSeconds(2));

        await AcquireAsync(store, "m1", "alpha");

        (await admin.Database.KeyTimeToLiveAsync(admin.Keys.PoolLease("alpha")))!.Value.ShouldBeGreaterThan(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AcquireAsync_ShortTimeToLive_LapsesByRedisClock()
    {
        var store = await StoreAsync();
        Track("m1", ["alpha"]);
        (await store.AcquireAsync("m1", ["alpha"], TimeSpan.FromMilliseconds(300), None)).ShouldBe(["alpha"]);

        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await store.GetOwnersAsync(["alpha"], None)).Count == 0,
            "the 300 ms lease lapses without the manual clock moving",
            TimeSpan.FromSeconds(15));

        (await AcquireAsync(store, "m2", "alpha")).ShouldBe(["alpha"]);
    }

    [Fact]
    public async Task GetManagersAsync_ShortTimeToLive_LapsesByRedisClockAndPrunesTheId()
    {
        var store = await StoreAsync();
        var admin = await AdminAsync();
        await store.RegisterAsync(new ManagerRegistration("brief", ["alpha"], new Dictionary<string, string>(), Time.GetUtcNow()), TimeSpan.FromMilliseconds(300), None);
        (await admin.Database.SetMembersAsync(admin.Keys.ManagerIds)).Select(v => (string?)v).ShouldBe(["brief"]);

        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await store.GetManagersAsync(None)).Count == 0,
            "the 300 ms registration lapses",
            TimeSpan.FromSeconds(15));

        (await admin.Database.SetMembersAsync(admin.Keys.ManagerIds)).ShouldBeEmpty();
    }

    [Fact]
    public async Task GetManagersAsync_UnreadableEntry_SkippedAndOthersListed()
    {
        var store = await StoreAsync();
        var admin = await AdminAsync();
        await RegisterAsync(store, "good", ["alpha"]);
        await admin.Database.StringSetAsync(admin.Keys.Manager("bad"), "{\"id\": 5}");
        await admin.Database.SetAddAsync(admin.Keys.ManagerIds, "bad");

        (await store.GetManagersAsync(None)).Select(m => m.Id).ShouldBe(["good"]);
    }

    [Fact]
    public async Task Operations_RedisUnreachable_InventoryUnavailable()
    {
        var connection = RedisConnection.Connect(
            new VmPooler.Core.Configuration.RedisOptions { Server = $"127.0.0.1:{RedisServer.FreePort()}", KeyPrefix = _prefix, OperationTimeout = TimeSpan.FromSeconds(1) },
            NullLogger<RedisConnection>.Instance);
        await using var _ = connection;
        var store = Create(connection, TimeProvider.System);

        await Should.ThrowAsync<InventoryUnavailableException>(() => store.AcquireAsync("m1", ["alpha"], Ttl, None).DefaultTimeout());
        await Should.ThrowAsync<InventoryUnavailableException>(() => store.ReleaseAsync("m1", ["alpha"], None).DefaultTimeout());
        await Should.ThrowAsync<InventoryUnavailableException>(() => store.GetOwnersAsync(["alpha"], None).DefaultTimeout());
        await Should.ThrowAsync<InventoryUnavailableException>(() => store.GetManagersAsync(None).DefaultTimeout());
        await Should.ThrowAsync<InventoryUnavailableException>(() => store.UnregisterAsync("m1", None).DefaultTimeout());
    }
}
