using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// A real 3-master Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c> joined with
/// <c>redis-cli --cluster create</c>. <see cref="Endpoints"/> lists all nodes (the form <c>redis.server</c> takes).
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private readonly List<RedisServer> _nodes;

    private RedisCluster(List<RedisServer> nodes)
    {
        _nodes = nodes;
    }

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>The nodes as <c>host:port,host:port,…</c>.</summary>
    public string Endpoints => string.Join(",", _nodes.Select(n => n.Endpoint));

    public static async Task<RedisCluster> StartNewAsync()
    {
        var nodes = new List<RedisServer>();
        for (var i = 0; i < 3; i++)
        {
            nodes.Add(await RedisServer.StartNewAsync("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"));
        }

        var output = await RedisCli.RunAsync(["--cluster", "create", .. nodes.Select(n => n.Endpoint), "--cluster-replicas", "0", "--cluster-yes"]);
        if (!output.Contains("All 16384 slots covered", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("redis-cli --cluster create failed:\n" + output);
        }

        var cluster = new RedisCluster(nodes);
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await Task.WhenAll(nodes.Select(n => n.CliAsync("cluster", "info")))).All(info => info.Contains("cluster_state:ok", StringComparison.Ordinal)),
            "every cluster node reports cluster_state:ok",
            TimeSpan.FromSeconds(20));
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
