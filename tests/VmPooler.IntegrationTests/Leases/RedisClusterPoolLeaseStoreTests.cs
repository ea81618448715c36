using VmPooler.IntegrationTests.Redis;

namespace VmPooler.IntegrationTests.Leases;

/// <summary>The lease contract against the 3-master Redis Cluster: one call's pools live on different nodes.</summary>
[Collection(RedisCollection.Name)]
public class RedisClusterPoolLeaseStoreTests(RedisFixtures redis) : RedisPoolLeaseStoreTestsBase
{
    protected override string Endpoints => redis.Cluster.Endpoints;
}
