using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Redis;
using VmPooler.Tests.Shared;
using VmPooler.Tests.Shared.Leases;

namespace VmPooler.IntegrationTests.Leases;

/// <summary>The lease store while its redis-server goes away and comes back (each test stops a server of its own).</summary>
public sealed class RedisPoolLeaseStoreOutageTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);

    private readonly RedisInventories _connections = new();
    private RedisServer? _server;

    private RedisServer Server => _server!;

    public async Task InitializeAsync() => _server = await RedisServer.StartNewAsync();

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await Server.DisposeAsync();
    }

    private async Task<(RedisConnection Connection, RedisPoolLeaseStore Store)> ConnectAsync(string prefix)
    {
        var connection = await _connections.ConnectAsync(Server.Endpoint, prefix, operationTimeout: TimeSpan.FromSeconds(1.5));
        return (connection, new RedisPoolLeaseStore(connection, TimeProvider.System, NullLogger<RedisPoolLeaseStore>.Instance));
    }

    private static ManagerRegistration Registration(string id) => new(id, ["alpha"], new Dictionary<string, string>(), default);

    [Fact]
    public async Task Operations_ServerStopped_UnavailableThenWorkAgainWithSubscriptionRestored()
    {
        var prefix = RedisFixtures.NewPrefix();
        var (listenerConnection, listener) = await ConnectAsync(prefix);
        var (managerConnection, manager) = await ConnectAsync(prefix);
        var changes = new PoolLeaseStoreContractTests.ChangeCounter();
        using var subscription = listener.SubscribeChanges(changes.OnChange);
        (await manager.AcquireAsync("m1", ["alpha"], Ttl, CancellationToken.None)).ShouldBe(["alpha"]);

        await Server.StopAsync();
        await Should.ThrowAsync<InventoryUnavailableException>(() => manager.AcquireAsync("m1", ["alpha"], Ttl, CancellationToken.None).DefaultTimeout());
        await Should.ThrowAsync<InventoryUnavailableException>(() => manager.RegisterAsync(Registration("m1"), Ttl, CancellationToken.None).DefaultTimeout());

        await Server.StartAsync();
        await AsyncTestHelpers.WaitUntilAsync(() => listenerConnection.IsConnected && managerConnection.IsConnected, "both connections are back", TimeSpan.FromSeconds(20));

        // The restarted server is empty (no persistence): the lease is free again and the scripts load anew.
        (await manager.AcquireAsync("m1", ["alpha"], Ttl, CancellationToken.None)).ShouldBe(["alpha"]);

        // Pub/sub is fire-and-forget: keep announcing a new manager until the listener's subscription is back too.
        var attempt = 0;
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                await manager.RegisterAsync(Registration($"m{++attempt}"), Ttl, CancellationToken.None);
                return changes.Count > 0;
            },
            "the subscription made before the outage notifies again",
            TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task SubscribeChanges_WhileServerDown_NotifiesOnceItIsBack()
    {
        var prefix = RedisFixtures.NewPrefix();
        var (listenerConnection, listener) = await ConnectAsync(prefix);
        var (managerConnection, manager) = await ConnectAsync(prefix);
        await Server.StopAsync();
        await AsyncTestHelpers.WaitUntilAsync(() => !listenerConnection.IsConnected, "the listener saw the server go", TimeSpan.FromSeconds(20));

        var changes = new PoolLeaseStoreContractTests.ChangeCounter();
        using var subscription = listener.SubscribeChanges(changes.OnChange);

        await Server.StartAsync();
        await AsyncTestHelpers.WaitUntilAsync(() => listenerConnection.IsConnected && managerConnection.IsConnected, "both connections are back", TimeSpan.FromSeconds(20));
        var attempt = 0;
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                await manager.RegisterAsync(Registration($"m{++attempt}"), Ttl, CancellationToken.None);
                return changes.Count > 0;
            },
            "a subscription made while Redis was down notifies once it is back",
            TimeSpan.FromSeconds(20));
    }
}
