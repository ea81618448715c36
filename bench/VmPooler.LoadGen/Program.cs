using System.Globalization;
using System.Text;
using VmPooler.Bench.Shared;
using VmPooler.LoadGen;

// vmpooler load generator: end-to-end HTTP checkout+return against the real service (memory and Redis inventories),
// the Redis ceiling (redis-benchmark EVALSHA of the same scripts), and the manager at 200 pools × 50 VMs.
//   dotnet VmPooler.LoadGen.dll --vmpooler src/VmPooler/bin/Release/net10.0/vmpooler.dll [--quick] [--only http,ceiling,manager]
//                               [--clients 1,8,32,128] [--inventories memory,redis,redis-api] [--duration SECONDS] [--out results.md]
//                               [--http-pools 4] [--http-pool-size 500] [--http-task-limit 50]
var settings = Settings.Parse(args);
if (!File.Exists(settings.Vmpooler))
{
    await Console.Error.WriteLineAsync($"loadgen: {settings.Vmpooler} does not exist (build src/VmPooler in Release first, or pass --vmpooler)");
    return 2;
}

var log = Console.Out;
var output = new StringBuilder();
var inventories = settings.Inventories;
var http = new List<HttpPoint>();
var ceiling = new Dictionary<int, (double Rps, double P50, double P99)>();
ManagerResult? manager = null;

if (settings.Runs("ceiling"))
{
    var (server, sha, keys) = await RedisCeiling.PrepareAsync();
    using (server)
    {
        foreach (var clients in settings.Clients)
        {
            ceiling[clients] = await RedisCeiling.RunAsync(server, sha, keys, clients, settings.Quick ? 20_000 : 200_000);
            await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ceiling: {clients} clients: {ceiling[clients].Rps:0} EVALSHA/s"));
        }
    }
}

if (settings.Runs("http"))
{
    foreach (var inventory in inventories)
    {
        // "redis-api": an API-only process on a Redis inventory whose ready sets the load generator keeps topped up
        // itself, so the API is measured on pools that never run dry, without the manager's refill on the same cores.
        var apiOnly = inventory == "redis-api";
        using var redis = inventory is "redis" or "redis-api" ? await LocalRedisServer.StartAsync() : null;
        var pools = Enumerable.Range(0, settings.HttpPools).Select(BenchConfig.PoolName).ToList();
        var size = apiOnly ? settings.PrefillPerPool : settings.HttpPoolSize;
        using var prefill = apiOnly ? await RedisPrefill.ConnectAsync(redis!.Port, "http") : null;
        if (prefill is not null)
        {
            await prefill.TopUpAsync(pools, size);
        }

        var yaml = BenchConfig.Yaml(settings.HttpPools, size, redis?.Endpoint, keyPrefix: "http", taskLimit: settings.HttpTaskLimit);
        using var server = ServerProcess.Start(settings.Vmpooler, yaml, apiOnly ? "api" : "all");
        using var client = HttpLoad.CreateClient(settings.Clients.Max());
        await server.WaitUntilFullAsync(client, TimeSpan.FromMinutes(5));
        foreach (var clients in settings.Clients)
        {
            if (prefill is not null)
            {
                await prefill.TopUpAsync(pools, size);
            }

            var point = await HttpLoad.RunAsync(inventory, client, server.BaseAddress, server.Id, pools, clients, settings.Warmup, settings.Duration);
            http.Add(point);
            await log.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"http {inventory}: {clients} clients: {point.PairsPerSecond:0} pairs/s, checkout p99 {Latencies.Percentile(point.Checkout, 99):0.00} ms, " +
                $"{point.CpuMsPerCheckout:0.000} CPU-ms/checkout, {point.Empty} empty, {point.Errors} errors"));
        }
    }
}

if (settings.Runs("manager"))
{
    manager = await ManagerScale.RunAsync(
        settings.Vmpooler, 200, 50, settings.Quick ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(60), settings.Quick ? 20 : 100, log);
}

output.Append(Report.Render(settings, http, ceiling, manager));
await log.WriteLineAsync();
await log.WriteAsync(output.ToString());
if (settings.Out is { } path)
{
    await File.WriteAllTextAsync(path, output.ToString());
}

return 0;

internal sealed record Settings(
    string Vmpooler,
    bool Quick,
    IReadOnlyList<int> Clients,
    IReadOnlySet<string> Only,
    string? Out,
    int HttpPools,
    int HttpPoolSize,
    int HttpTaskLimit,
    IReadOnlyList<string> Inventories,
    int? DurationSeconds)
{
    /// <summary>Ready VMs per pool the <c>redis-api</c> run tops up to before each point: more than a point can use.</summary>
    public int PrefillPerPool => Quick ? 20_000 : 70_000;

    public TimeSpan Warmup => Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(3);

    public TimeSpan Duration => TimeSpan.FromSeconds(DurationSeconds ?? (Quick ? 3 : 15));

    public bool Runs(string part) => Only.Count == 0 || Only.Contains(part);

    public static Settings Parse(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        int Number(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new Settings(
            Path.GetFullPath(Value("--vmpooler") ?? "src/VmPooler/bin/Release/net10.0/vmpooler.dll"),
            args.Contains("--quick"),
            (Value("--clients") ?? "1,8,32,128").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToList(),
            (Value("--only") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal),
            Value("--out"),
            Number("--http-pools", 4),
            Number("--http-pool-size", 500),
            Number("--http-task-limit", 50),
            (Value("--inventories") ?? "memory,redis,redis-api").Split(',', StringSplitOptions.RemoveEmptyEntries),
            Value("--duration") is { } seconds ? int.Parse(seconds, CultureInfo.InvariantCulture) : null);
    }
}
