using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Bench.Shared;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Redis;

namespace VmPooler.LoadGen;

/// <summary>
/// The ceiling: the inventory's own checkout script (take.lua) and return script (return.lua), taken from the
/// VmPooler.Redis assembly as they ship, run straight at a redis-server by <c>redis-benchmark</c> with EVALSHA. One call
/// checks out the oldest ready VM, returns it, and moves it back to ready (so the pool never runs dry): the Redis work of
/// one checkout+return pair, without HTTP, the API, the index lookups or the manager.
/// </summary>
internal static class RedisCeiling
{
    public const string Pool = "ceiling";
    private const int PoolSize = 1000;

    /// <summary>The combined script: the shipped prelude, take and return bodies as functions, and the move back to ready.</summary>
    public static string Script()
    {
        var take = Resource("take");
        var back = Resource("return").Replace("ARGV[3]", "RETURN_NAME", StringComparison.Ordinal);
        return $"""
            {Resource("_prelude")}
            local function take_vm()
            {take}
            end
            local RETURN_NAME
            local function return_vm()
            {back}
            end
            local taken = take_vm()
            if #taken == 0 then
              return 'empty'
            end
            RETURN_NAME = taken[1]
            local returned = return_vm()
            leave('completed', RETURN_NAME)
            enter('ready', RETURN_NAME)
            redis.call('HSET', VM_PREFIX .. RETURN_NAME, '_state', 'ready')
            return returned
            """;
    }

    private static string Resource(string name)
    {
        using var stream = typeof(RedisInventory).Assembly.GetManifestResourceStream($"VmPooler.Redis.Scripts.{name}.lua")
            ?? throw new InvalidOperationException($"VmPooler.Redis has no embedded script {name}.lua");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Starts a redis-server, fills one pool through the real inventory, and loads the script. Returns its SHA1.</summary>
    public static async Task<(LocalRedisServer Server, string Sha, RedisKeys Keys)> PrepareAsync()
    {
        var server = await LocalRedisServer.StartAsync();
        var options = new RedisOptions { Server = "127.0.0.1", Port = server.Port, KeyPrefix = "ceiling", OperationTimeout = TimeSpan.FromSeconds(5) };
        using (var connection = RedisConnection.Connect(options, NullLogger<RedisConnection>.Instance))
        {
            await WaitConnectedAsync(connection);
            var inventory = new RedisInventory(connection, TimeProvider.System, NullLogger<RedisInventory>.Instance);
            var fields = new Dictionary<string, string> { [VmFields.Template] = Pool, [VmFields.Pool] = Pool };
            for (var i = 0; i < PoolSize; i++)
            {
                var vm = $"ceiling-{i:00000}";
                if (!await inventory.AddPendingAsync(Pool, vm, fields, CancellationToken.None)
                    || !await inventory.MoveAsync(Pool, vm, VmState.Pending, VmState.Ready, cancellationToken: CancellationToken.None))
                {
                    throw new InvalidOperationException($"could not add {vm}");
                }
            }
        }

        var sha = (await RunAsync("redis-cli", ["-p", server.Port.ToString(CultureInfo.InvariantCulture), "SCRIPT", "LOAD", Script()])).Trim();
        if (sha.Length != 40)
        {
            throw new InvalidOperationException("SCRIPT LOAD failed: " + sha);
        }

        return (server, sha, new RedisKeys("ceiling"));
    }

    public static async Task WaitConnectedAsync(RedisConnection connection)
    {
        var waited = Stopwatch.StartNew();
        while (!connection.IsConnected)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException("could not connect to redis-server");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }

    /// <summary>EVALSHA calls per second at <paramref name="clients"/> connections, with redis-benchmark's p50 and p99 (ms).</summary>
    public static async Task<(double Rps, double P50, double P99)> RunAsync(LocalRedisServer server, string sha, RedisKeys keys, int clients, int requests)
    {
        var poolKeys = keys.Pool(Pool).Select(k => (string)k!).ToArray();
        string[] arguments =
        [
            "-h", "127.0.0.1", "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-c", clients.ToString(CultureInfo.InvariantCulture),
            "-n", requests.ToString(CultureInfo.InvariantCulture), "--csv",
            "EVALSHA", sha, poolKeys.Length.ToString(CultureInfo.InvariantCulture), .. poolKeys,
            keys.VmPrefix(Pool), "0", "1", "2026-01-01T00:00:00.0000000+00:00", "", "", "",
        ];
        var output = await RunAsync("redis-benchmark", arguments);
        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .LastOrDefault(l => l.StartsWith("\"EVALSHA", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("unexpected redis-benchmark output: " + output);
        var fields = line.Split("\",\"").Select(f => f.Trim('"')).ToArray();
        double Field(int i) => double.Parse(fields[i], CultureInfo.InvariantCulture);
        return (Field(1), Field(4), Field(6));
    }

    private static async Task<string> RunAsync(string tool, IEnumerable<string> arguments)
    {
        var executable = LocalRedisServer.FindExecutable(tool)
            ?? throw new InvalidOperationException($"{tool} is not installed: apt-get install -y redis-tools");
        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + tool);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return await output + await error;
    }
}
