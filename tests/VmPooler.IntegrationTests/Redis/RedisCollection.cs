namespace VmPooler.IntegrationTests.Redis;

/// <summary>The Redis test classes: they share <see cref="RedisFixtures"/> and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixtures>
{
    public const string Name = "Redis";
}
