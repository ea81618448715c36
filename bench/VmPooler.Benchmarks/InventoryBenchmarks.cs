using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Bench.Shared;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Redis;

namespace VmPooler.Benchmarks;

/// <summary>
/// Checkout and return straight against an inventory, without HTTP: the embedded memory inventory, and the Redis
/// inventory on a redis-server the benchmark starts on a free loopback port. One operation is a checkout of one VM, its
/// return, and a move of the returned VM back to ready (what the manager's destroy and re-clone would do), so the pool
/// never runs dry however many iterations run.
/// </summary>
[MemoryDiagnoser]
public class InventoryBenchmarks
{
    private const string Pool = "bench-000";
    private const int PoolSize = 1000;

    private static readonly CheckoutItem[] OneVm = [new(Pool, [Pool])];

    private LocalRedisServer? _redis;
    private RedisConnection? _connection;
    private IInventory _inventory = null!;
    private string _someVm = "";

    [Params("memory", "redis")]
    public string Inventory { get; set; } = "memory";

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        if (Inventory == "redis")
        {
            _redis = await LocalRedisServer.StartAsync();
            _connection = RedisConnection.Connect(
                new RedisOptions { Server = "127.0.0.1", Port = _redis.Port, KeyPrefix = "bench", OperationTimeout = TimeSpan.FromSeconds(5) },
                NullLogger<RedisConnection>.Instance);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!_connection.IsConnected && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
            }

            _inventory = new RedisInventory(_connection, TimeProvider.System, NullLogger<RedisInventory>.Instance);
        }
        else
        {
            _inventory = new MemoryInventory(TimeProvider.System);
        }

        var fields = new Dictionary<string, string> { [VmFields.Template] = Pool, [VmFields.Pool] = Pool };
        for (var i = 0; i < PoolSize; i++)
        {
            var vm = $"bench-vm-{i:00000}";
            if (!await _inventory.AddPendingAsync(Pool, vm, fields, CancellationToken.None)
                || !await _inventory.MoveAsync(Pool, vm, VmState.Pending, VmState.Ready, cancellationToken: CancellationToken.None))
            {
                throw new InvalidOperationException($"could not add {vm}");
            }
        }

        _someVm = "bench-vm-00000";
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection?.Dispose();
        _redis?.Dispose();
    }

    /// <summary>Check out one VM, return it, and put it back to ready.</summary>
    [Benchmark]
    public async Task<string> CheckoutReturn()
    {
        var result = await _inventory.CheckoutAsync(OneVm, new CheckoutContext(TimeProvider.System.GetUtcNow()), CancellationToken.None);
        var vm = result.Allocations[0].Vm;
        var returned = await _inventory.ReturnAsync(vm, CancellationToken.None);
        if (returned.Status != ReturnStatus.Returned
            || !await _inventory.MoveAsync(Pool, vm, VmState.Completed, VmState.Ready, cancellationToken: CancellationToken.None))
        {
            throw new InvalidOperationException($"{vm} was not returned");
        }

        return vm;
    }

    /// <summary>The VM lookup the API does before a return (GET /vm/&lt;host&gt; does the same).</summary>
    [Benchmark]
    public Task<VmRecord?> GetVm() => _inventory.GetVmAsync(_someVm, CancellationToken.None);
}
