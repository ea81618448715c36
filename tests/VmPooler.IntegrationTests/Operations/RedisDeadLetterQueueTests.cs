using VmPooler.Core.Configuration;
using VmPooler.Core.Operations;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Redis;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Operations;

/// <summary>The contract on a real redis-server (each test under its own key prefix), plus the key layout.</summary>
[Collection(RedisCollection.Name)]
public class RedisDeadLetterQueueTests(RedisFixtures redis) : DeadLetterQueueContractTests
{
    private readonly RedisInventories _connections = new();
    private RedisConnection? _connection;

    protected RedisFixtures Redis => redis;

    protected virtual string Endpoints => redis.Server.Endpoint;

    protected override async Task<IDeadLetterQueue> CreateAsync(OperationsOptions options)
    {
        _connection ??= await _connections.ConnectAsync(Endpoints).DefaultTimeout();
        return new RedisDeadLetterQueue(_connection, options, Clock);
    }

    public override async Task DisposeAsync() => await _connections.DisposeAsync();

    [Fact]
    public async Task Add_KeyOnThePoolsSlotExpiringAfterTtl_MemberInUpstreamForm()
    {
        var queue = (RedisDeadLetterQueue)Queue;
        await queue.AddAsync(new DeadLetterEntry("vm1", "debian", "boom", Clock.GetUtcNow(), 2, DeadLetterKind.Clone), CancellationToken.None).DefaultTimeout();

        var key = queue.Key("debian", DeadLetterKind.Clone);
        ((string)key!).ShouldEndWith(":{debian}:dlq:clone");
        var ttl = await _connection!.Database.KeyTimeToLiveAsync(key).DefaultTimeout();
        ttl.ShouldNotBeNull().ShouldBeLessThanOrEqualTo(Options.DlqTtl);
        var member = (string)(await _connection.Database.SortedSetRangeByRankAsync(key).DefaultTimeout()).Single()!;
        member.ShouldStartWith($"vm1:{T0.ToUnixTimeSeconds()}:{{");
        member.ShouldContain("\"queue_from\":\"clone\"");
        member.ShouldContain("\"retry_count\":2");
    }
}

/// <summary>The same contract on a real 3-master Redis Cluster: every script stays on one pool's slot.</summary>
[Collection(RedisCollection.Name)]
public class RedisClusterDeadLetterQueueTests(RedisFixtures fixtures) : RedisDeadLetterQueueTests(fixtures)
{
    protected override string Endpoints => Redis.Cluster.Endpoints;
}
