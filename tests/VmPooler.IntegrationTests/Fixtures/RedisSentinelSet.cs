using System.Globalization;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// A Redis primary, one replica and three sentinels on loopback ports, monitoring the service <see cref="Service"/>
/// (quorum 2, a primary is down after 1 s). <see cref="FailOverAsync"/> SIGKILLs the current primary, waits until the
/// sentinels have promoted the replica, and starts the killed node again as a replica of the new primary.
/// </summary>
public sealed class RedisSentinelSet : IAsyncDisposable
{
    public const string Service = "vmpooler-test";

    private readonly RedisNode[] _nodes = [new("node-a"), new("node-b")];
    private readonly RedisNode[] _sentinels = [new("sentinel-1"), new("sentinel-2"), new("sentinel-3")];

    /// <summary>The <c>redis.sentinels</c> entries.</summary>
    public IReadOnlyList<string> SentinelEndpoints => [.. _sentinels.Select(s => $"127.0.0.1:{s.Port}")];

    public static async Task<RedisSentinelSet> StartAsync()
    {
        var set = new RedisSentinelSet();
        try
        {
            await set._nodes[0].StartAsync("--save", "", "--appendonly", "no");
            await set._nodes[1].StartAsync("--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", Port(set._nodes[0]));
            foreach (var sentinel in set._sentinels)
            {
                var config = Path.Combine(sentinel.Directory, "sentinel.conf");
                await File.WriteAllTextAsync(config, $"""
                    sentinel monitor {Service} 127.0.0.1 {Port(set._nodes[0])} 2
                    sentinel down-after-milliseconds {Service} 1000
                    sentinel failover-timeout {Service} 4000
                    sentinel parallel-syncs {Service} 1

                    """);
                await sentinel.StartAsync(config, "--sentinel");
            }

            await set.WaitForReplicaAsync();
            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>The port of the primary the sentinels name now.</summary>
    public async Task<int> PrimaryPortAsync()
    {
        var answer = await _sentinels[0].CliAsync("SENTINEL", "get-master-addr-by-name", Service);
        var lines = answer.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 2 ? int.Parse(lines[1], CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>
    /// SIGKILLs the primary, waits until the sentinels name the other node, then starts the killed node again as its
    /// replica and waits until it has synchronised. Returns when the primary was killed and when the sentinels named the new one.
    /// </summary>
    public async Task<(RedisNode Killed, RedisNode Promoted)> FailOverAsync(Func<Task>? onKilled = null)
    {
        var primaryPort = await PrimaryPortAsync();
        var killed = _nodes.Single(n => n.Port == primaryPort);
        var promoted = _nodes.Single(n => n.Port != primaryPort);
        await killed.KillAsync();
        if (onKilled is not null)
        {
            await onKilled();
        }

        await AsyncTestHelpers.WaitUntilAsync(async () => await PrimaryPortAsync() == promoted.Port, "the sentinels promote the replica", TimeSpan.FromSeconds(30));
        await killed.StartAsync("--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", Port(promoted));
        await WaitForReplicaAsync();
        return (killed, promoted);
    }

    /// <summary>Waits until the primary has a replica in sync (so that WAIT 1 can succeed).</summary>
    public async Task WaitForReplicaAsync()
        => await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                var port = await PrimaryPortAsync();
                var primary = _nodes.SingleOrDefault(n => n.Port == port);
                return primary is not null && (await primary.CliAsync("INFO", "replication")).Contains("state=online", StringComparison.Ordinal);
            },
            "the primary has an online replica",
            TimeSpan.FromSeconds(30));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _sentinels.Concat(_nodes))
        {
            await node.DisposeAsync();
        }
    }

    private static string Port(RedisNode node) => node.Port.ToString(CultureInfo.InvariantCulture);
}
