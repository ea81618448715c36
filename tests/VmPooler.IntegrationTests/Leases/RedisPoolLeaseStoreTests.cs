using VmPooler.IntegrationTests.Redis;

namespace VmPooler.IntegrationTests.Leases;

/// <summary>The lease contract against a single <c>redis-server</c>.</summary>
[Collection(RedisCollection.Name)]
public class RedisPoolLeaseStoreTests(RedisFixtures redis) : RedisPoolLeaseStoreTestsBase
{
    protected override string Endpoints => redis.Server.Endpoint;
}
