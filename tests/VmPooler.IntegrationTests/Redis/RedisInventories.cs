using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Core.Configuration;
using VmPooler.Redis;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// Creates <see cref="RedisInventory"/> instances for one test, each on its own <see cref="RedisConnection"/> (like
/// separate processes), and disposes every connection at the end of the test.
/// </summary>
public sealed class RedisInventories : IAsyncDisposable
{
    private readonly List<RedisConnection> _connections = [];

    /// <summary>
    /// Connects to <paramref name="endpoints"/> (one server, or the comma-separated nodes of a cluster) under
    /// <paramref name="prefix"/> (a fresh one when null) and waits until the connection is up. Its operations time out
    /// after <paramref name="operationTimeout"/>, by default the relaxed one of the test servers.
    /// </summary>
    public async Task<RedisConnection> ConnectAsync(
        string endpoints,
        string? prefix = null,
        TimeSpan? operationTimeout = null,
        Func<RedisOptions, Task<RedisOptions>>? configure = null)
    {
        var options = new RedisOptions
        {
            Server = endpoints,
            KeyPrefix = prefix ?? RedisFixtures.NewPrefix(),
            OperationTimeout = operationTimeout ?? VmPooler.IntegrationTests.Fixtures.VmPoolerServer.RelaxedOperationTimeout,
        };
        if (configure is not null)
        {
            // TLS, an ACL user … (the user may be made for this prefix first).
            options = await configure(options);
        }

        var connection = RedisConnection.Connect(options, NullLogger<RedisConnection>.Instance);
        lock (_connections)
        {
            _connections.Add(connection);
        }

        await AsyncTestHelpers.WaitUntilAsync(() => connection.IsConnected, $"the connection to {endpoints} is up", TimeSpan.FromSeconds(10));
        return connection;
    }

    /// <summary>A new inventory on a new connection (see <see cref="ConnectAsync"/>).</summary>
    public async Task<RedisInventory> CreateAsync(
        string endpoints,
        TimeProvider time,
        string? prefix = null,
        TimeSpan? operationTimeout = null,
        Func<RedisOptions, Task<RedisOptions>>? configure = null)
        => Create(await ConnectAsync(endpoints, prefix, operationTimeout, configure), time);

    /// <summary>An inventory over an existing connection (keeping <paramref name="maxForgottenPerPool"/> forgotten records per pool).</summary>
    public static RedisInventory Create(
        RedisConnection connection,
        TimeProvider time,
        int maxForgottenPerPool = OperationsOptions.DefaultMaxDestroyedRecordsPerPool)
        => new(connection, time, NullLogger<RedisInventory>.Instance, maxForgottenPerPool);

    /// <summary>Closes one connection now (a process going away), instead of at the end of the test.</summary>
    public async Task DisposeAsync(RedisConnection connection)
    {
        lock (_connections)
        {
            _connections.Remove(connection);
        }

        await connection.DisposeAsync().AsTask().DefaultTimeout();
    }

    public async ValueTask DisposeAsync()
    {
        RedisConnection[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
            _connections.Clear();
        }

        await Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask().DefaultTimeout()));
    }
}
