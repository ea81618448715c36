using StackExchange.Redis;
using VmPooler.Core.History;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Redis;
using VmPooler.Tests.Shared;
using VmPooler.Tests.Shared.History;

namespace VmPooler.IntegrationTests.History;

/// <summary>The history store contract against <see cref="RedisHistoryStore"/> on a real redis-server, each test under a fresh key prefix.</summary>
[Collection(RedisCollection.Name)]
public class RedisHistoryStoreContractTests(RedisFixtures redis) : HistoryStoreContractTests
{
    private readonly RedisInventories _connections = new();
    private RedisConnection? _connection;

    protected override async Task<IHistoryStore> CreateStoreAsync()
    {
        _connection = await _connections.ConnectAsync(redis.Server.Endpoint).DefaultTimeout();
        return new RedisHistoryStore(_connection, TimeProvider.System);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _connections.DisposeAsync();
    }

    [Fact]
    public async Task Record_KeysCarryThePoolTagAndExpire()
    {
        await RecordAsync(T0, new PoolSample("debian", 1, 0, 0));
        await Store.RecordCheckoutsAsync("debian", 1, T0, None).DefaultTimeout();
        var store = (RedisHistoryStore)Store;
        var db = _connection!.Database;

        foreach (var resolution in new[] { HistoryResolution.Minute, HistoryResolution.Hour })
        {
            foreach (var key in new[] { store.Points("debian", resolution), store.Index("debian", resolution) })
            {
                ((string)key!).ShouldContain("{debian}", Case.Sensitive, "every key of a pool is on the pool's slot");
                var ttl = await db.KeyTimeToLiveAsync(key).DefaultTimeout();
                ttl.ShouldNotBeNull($"{key} expires");
                ttl.Value.ShouldBeLessThanOrEqualTo(HistoryConstants.Retention(resolution));
                ttl.Value.ShouldBeGreaterThan(HistoryConstants.Retention(resolution) - TimeSpan.FromMinutes(5));
            }
        }
    }

    [Fact]
    public async Task Record_PastTheRetention_TheHashKeepsOnlyRetainedFields()
    {
        // A day and a half of minutes: the minute hash holds at most a day's buckets (5 fields each), not all of them.
        for (var minute = 0; minute < 36 * 60; minute += 10)
        {
            await RecordAsync(T0.AddMinutes(minute), new PoolSample("debian", 1, 0, 0));
        }

        var store = (RedisHistoryStore)Store;
        var db = _connection!.Database;
        var fields = await db.HashLengthAsync(store.Points("debian", HistoryResolution.Minute)).DefaultTimeout();
        var buckets = await db.SortedSetLengthAsync(store.Index("debian", HistoryResolution.Minute)).DefaultTimeout();

        buckets.ShouldBe(24 * 6);
        fields.ShouldBe(buckets * 4, "ready, pending, running and samples per sampled bucket");
    }
}
