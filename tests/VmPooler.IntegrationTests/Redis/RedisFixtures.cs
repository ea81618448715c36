using VmPooler.IntegrationTests.Fixtures;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// One real <c>redis-server</c> and one real 3-master Redis Cluster, started together once for every Redis test class
/// (the collection) and stopped after the last one. Tests never flush them: each test owns its keys through a fresh
/// <see cref="NewPrefix"/>, the way SE.Redis names each test's keys after the test.
/// </summary>
public sealed class RedisFixtures : IAsyncLifetime
{
    private RedisServer? _server;
    private RedisCluster? _cluster;

    public RedisServer Server => _server ?? throw new InvalidOperationException("the Redis server has not started");

    public RedisCluster Cluster => _cluster ?? throw new InvalidOperationException("the Redis cluster has not started");

    /// <summary>A key prefix no other test uses.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..16];

    public async Task InitializeAsync()
    {
        var server = RedisServer.StartNewAsync();
        var cluster = RedisCluster.StartNewAsync();
        try
        {
            await Task.WhenAll(server, cluster);
        }
        finally
        {
            // Keep whatever did start, so that DisposeAsync stops it even when the other failed.
            _server = server.IsCompletedSuccessfully ? server.Result : null;
            _cluster = cluster.IsCompletedSuccessfully ? cluster.Result : null;
        }
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(
            _server?.DisposeAsync().AsTask() ?? Task.CompletedTask,
            _cluster?.DisposeAsync().AsTask() ?? Task.CompletedTask);
    }
}
