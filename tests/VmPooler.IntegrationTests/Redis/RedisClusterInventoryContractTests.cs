namespace VmPooler.IntegrationTests.Redis;

/// <summary>The inventory contract against a 3-master Redis Cluster (<c>redis.server</c> lists every node).</summary>
[Collection(RedisCollection.Name)]
public class RedisClusterInventoryContractTests(RedisFixtures redis) : RedisContractTestsBase
{
    protected override string Endpoints => redis.Cluster.Endpoints;
}
