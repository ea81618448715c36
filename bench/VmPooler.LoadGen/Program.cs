using System.Globalization;
using System.Text;
using VmPooler.Bench.Shared;
using VmPooler.LoadGen;

// vmpooler load generator: end-to-end HTTP checkout+return against the real service (memory and Redis inventories,
// with the Redis commands per pair from INFO commandstats), the Redis ceiling (redis-benchmark EVALSHA of the same
// scripts), the refill latency (checkout -> replacement clone started and ready), and the manager at scale.
//   dotnet VmPooler.LoadGen.dll --vmpooler src/VmPooler/bin/Release/net10.0/vmpooler.dll [--quick] [--only http,ceiling,refill,manager]
//                               [--clients 1,8,32,128] [--inventories memory,redis,redis-api] [--duration SECONDS] [--warmup SECONDS] [--wrk] [--out results.md]
//                               [--http-pools 4] [--http-pool-size 500[,50,...]] [--http-task-limit 50]
//                               [--refill-pools 4] [--refill-size 500] [--refill-checkouts 300]
//                               [--scale-pools 200] [--scale-size 50] [--scale-managers 1] [--scale-window SECONDS]
//                               [--scale-checkouts 100] [--scale-task-limit 10] [--scale-kill]
// Several managers get distinct --manager-id values when the vmpooler build has that option (its --help says so).
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
ManagerResult? refill = null;

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
        foreach (var poolSize in settings.HttpPoolSizes)
        {
            http.AddRange(await RunHttpAsync(settings, inventory, poolSize, log));
        }
    }
}

if (settings.Runs("refill"))
{
    refill = await ManagerScale.RunAsync(settings.Vmpooler, settings.Refill, log);
}

if (settings.Runs("manager"))
{
    manager = await ManagerScale.RunAsync(settings.Vmpooler, settings.Scale, log);
}

output.Append(Report.Render(settings, http, ceiling, refill, manager));
await log.WriteLineAsync();
await log.WriteAsync(output.ToString());
if (settings.Out is { } path)
{
    await File.WriteAllTextAsync(path, output.ToString());
}

return 0;

// One inventory and pool size: start the service, wait for full pools, then one point per client count.
static async Task<List<HttpPoint>> RunHttpAsync(Settings settings, string inventory, int poolSize, TextWriter log)
{
    // "redis-api": an API-only process on a Redis inventory whose ready sets the load generator keeps topped up
    // itself, so the API is measured on pools that never run dry, without the manager's refill on the same cores.
    var apiOnly = inventory == "redis-api";
    using var redis = inventory is "redis" or "redis-api" ? await LocalRedisServer.StartAsync() : null;
    var pools = Enumerable.Range(0, settings.HttpPools).Select(BenchConfig.PoolName).ToList();
    var size = apiOnly ? settings.PrefillPerPool : poolSize;
    using var prefill = apiOnly ? await RedisPrefill.ConnectAsync(redis!.Port, "http") : null;
    if (prefill is not null)
    {
        await prefill.TopUpAsync(pools, size);
    }

    var yaml = BenchConfig.Yaml(settings.HttpPools, size, redis?.Endpoint, keyPrefix: "http", taskLimit: settings.HttpTaskLimit);
    using var server = ServerProcess.Start(settings.Vmpooler, yaml, apiOnly ? "api" : "all");
    using var client = HttpLoad.CreateClient(settings.Clients.Max());
    using var redisStats = redis is null ? null : await RedisCommandStats.ConnectAsync(redis.Port);
    await server.WaitUntilFullAsync(client, TimeSpan.FromMinutes(5));
    double? idle = null;
    if (redisStats is not null && !apiOnly)
    {
        // Let the last clones' passes settle, then count what the manager does on its own.
        await Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System);
        idle = await HttpLoad.IdleRedisRateAsync(redisStats, settings.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(5));
        await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"http {inventory} {settings.HttpPools}x{size}: idle: {idle:0} Redis commands/s"));
    }

    var points = new List<HttpPoint>();
    // The server's resident memory once full and after each point: what a churn leaves behind (issue 14, retention).
    var rssFull = ProcessStats.RssMegabytes(server.Id);
    var pairsSoFar = 0L;
    await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"http {inventory} {settings.HttpPools}x{size}: server RSS {rssFull:0} MB with full pools"));
    foreach (var clients in settings.Clients)
    {
        if (prefill is not null)
        {
            await prefill.TopUpAsync(pools, size);
        }

        var point = await HttpLoad.RunAsync(
            inventory, client, server.BaseAddress, server.Id, pools, clients, points.Count == 0 ? settings.FirstWarmup : settings.Warmup, settings.Duration, redisStats,
            settings.Wrk ? Path.GetFullPath("bench/wrk/pairs.lua") : null) with
        {
            PoolSize = size,
            RedisIdlePerSecond = idle,
        };
        points.Add(point);
        var commands = point.RedisCalls is { } calls ? "; Redis commands per pair " + RedisCommandStats.Describe(calls, Math.Max(1, point.Pairs)) : "";
        await log.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"http {inventory} {settings.HttpPools}x{size}: {clients} clients: {point.PairsPerSecond:0} pairs/s, checkout p99 {Latencies.Percentile(point.Checkout, 99):0.00} ms, " +
            $"{point.CpuMsPerCheckout:0.000} CPU-ms/checkout, {point.Empty} empty ({point.EmptyPercent:0.0} % of checkouts), {point.Errors} errors{commands}; load {point.Load}"));
        pairsSoFar += point.Pairs;
        var rss = ProcessStats.RssMegabytes(server.Id);
        await log.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"http {inventory} {settings.HttpPools}x{size}: server RSS {rss:0} MB after {pairsSoFar} checkout+return pairs (+{rss - rssFull:0} MB since full, {(rss - rssFull) * 1024 * 1024 / Math.Max(1, pairsSoFar):0} B per pair)"));
    }

    return points;
}

internal sealed record Settings(
    string Vmpooler,
    bool Quick,
    IReadOnlyList<int> Clients,
    IReadOnlySet<string> Only,
    string? Out,
    int HttpPools,
    IReadOnlyList<int> HttpPoolSizes,
    int HttpTaskLimit,
    IReadOnlyList<string> Inventories,
    int? DurationSeconds,
    int? WarmupSeconds,
    bool Wrk,
    ManagerRun Scale,
    ManagerRun Refill)
{
    /// <summary>Ready VMs per pool the <c>redis-api</c> run tops up to before each point: more than a point can use.</summary>
    public int PrefillPerPool => Quick ? 20_000 : 70_000;

    /// <summary>The unmeasured churn before each point after a server's first (<c>--warmup</c> sets both).</summary>
    public TimeSpan Warmup => TimeSpan.FromSeconds(WarmupSeconds ?? (Quick ? 1 : 3));

    /// <summary>
    /// The unmeasured churn before a fresh server's first point: long enough for the JIT's tiering to finish, so the point
    /// measures the steady state a running service is in. Hot methods reach optimised code only after their tier-0 and
    /// instrumented versions; on two busy cores that background compilation took a fifth of the service's CPU for the
    /// first ~30 s of churn and under 1 % after 60 s (perf, 1 client).
    /// </summary>
    public TimeSpan FirstWarmup => TimeSpan.FromSeconds(WarmupSeconds ?? (Quick ? 1 : 45));

    public TimeSpan Duration => TimeSpan.FromSeconds(DurationSeconds ?? (Quick ? 3 : 15));

    public bool Runs(string part) => Only.Count == 0 || Only.Contains(part);

    public static Settings Parse(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        int Number(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        IReadOnlyList<int> Numbers(string name, string fallback)
            => (Value(name) ?? fallback).Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToList();
        var quick = args.Contains("--quick");
        return new Settings(
            Path.GetFullPath(Value("--vmpooler") ?? "src/VmPooler/bin/Release/net10.0/vmpooler.dll"),
            quick,
            Numbers("--clients", "1,8,32,128"),
            (Value("--only") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal),
            Value("--out"),
            Number("--http-pools", 4),
            Numbers("--http-pool-size", "500"),
            Number("--http-task-limit", 50),
            (Value("--inventories") ?? "memory,redis,redis-api").Split(',', StringSplitOptions.RemoveEmptyEntries),
            Value("--duration") is { } seconds ? int.Parse(seconds, CultureInfo.InvariantCulture) : null,
            Value("--warmup") is { } warmup ? int.Parse(warmup, CultureInfo.InvariantCulture) : null,
            args.Contains("--wrk"),
            new ManagerRun(
                "scale",
                Number("--scale-pools", 200),
                Number("--scale-size", 50),
                Number("--scale-managers", 1),
                TimeSpan.FromSeconds(Number("--scale-window", quick ? 10 : 60)),
                Number("--scale-checkouts", quick ? 20 : 100),
                Number("--scale-task-limit", 10)) { KillOne = args.Contains("--scale-kill") },
            new ManagerRun(
                "refill",
                Number("--refill-pools", 4),
                Number("--refill-size", 500),
                1,
                TimeSpan.Zero,
                Number("--refill-checkouts", quick ? 50 : 300),
                Number("--http-task-limit", 50)));
    }
}
