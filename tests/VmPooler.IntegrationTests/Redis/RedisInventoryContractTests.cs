namespace VmPooler.IntegrationTests.Redis;

/// <summary>The inventory contract against a single <c>redis-server</c>.</summary>
[Collection(RedisCollection.Name)]
public class RedisInventoryContractTests(RedisFixtures redis) : RedisContractTestsBase
{
    protected override string Endpoints => redis.Server.Endpoint;
}
