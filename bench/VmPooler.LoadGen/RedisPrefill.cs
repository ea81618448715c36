using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Redis;

namespace VmPooler.LoadGen;

/// <summary>
/// Fills the Redis inventory's ready sets directly (as the manager would after a clone), so an API-only process can be
/// measured on pools that never run dry, without the manager's refill on the same cores. Used by the
/// <c>redis-api</c> inventory of the HTTP load.
/// </summary>
internal sealed class RedisPrefill : IDisposable
{
    private readonly RedisConnection _connection;
    private readonly RedisInventory _inventory;
    private int _next;

    private RedisPrefill(RedisConnection connection)
    {
        _connection = connection;
        _inventory = new RedisInventory(connection, TimeProvider.System, NullLogger<RedisInventory>.Instance);
    }

    public static async Task<RedisPrefill> ConnectAsync(int port, string keyPrefix)
    {
        var connection = RedisConnection.Connect(
            new RedisOptions { Server = "127.0.0.1", Port = port, KeyPrefix = keyPrefix, OperationTimeout = TimeSpan.FromSeconds(30) },
            NullLogger<RedisConnection>.Instance);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!connection.IsConnected && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }

        return new RedisPrefill(connection);
    }

    /// <summary>Adds ready VMs to every pool until each has <paramref name="ready"/> (many operations in flight at once).</summary>
    public async Task TopUpAsync(IReadOnlyList<string> pools, int ready)
    {
        var counts = await _inventory.GetCountsAsync(pools, CancellationToken.None);
        using var inFlight = new SemaphoreSlim(256);
        var work = new List<Task>();
        foreach (var pool in pools)
        {
            var missing = ready - (counts.TryGetValue(pool, out var c) ? c.Ready : 0);
            var fields = new Dictionary<string, string> { [VmFields.Template] = "templates/" + pool, [VmFields.Pool] = pool };
            for (var i = 0; i < missing; i++)
            {
                var vm = $"{pool}-pre-{Interlocked.Increment(ref _next):0000000}";
                await inFlight.WaitAsync();
                work.Add(AddReadyAsync(pool, vm, fields, inFlight));
            }
        }

        await Task.WhenAll(work);
    }

    private async Task AddReadyAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, SemaphoreSlim inFlight)
    {
        try
        {
            if (!await _inventory.AddPendingAsync(pool, vm, fields, CancellationToken.None)
                || !await _inventory.MoveAsync(pool, vm, VmState.Pending, VmState.Ready, cancellationToken: CancellationToken.None))
            {
                throw new InvalidOperationException($"could not add {vm} to {pool} as ready");
            }
        }
        finally
        {
            inFlight.Release();
        }
    }

    public void Dispose() => _connection.Dispose();
}
