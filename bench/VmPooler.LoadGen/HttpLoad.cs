using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace VmPooler.LoadGen;

/// <summary>One point of the HTTP load: the result of N clients doing checkout then return for a while.</summary>
internal sealed record HttpPoint(
    string Inventory,
    int Clients,
    double Seconds,
    long Pairs,
    long Empty,
    long Errors,
    double[] Checkout,
    double[] Return,
    double ServerCpuMs,
    double ClientCpuMs,
    string Load)
{
    /// <summary>VMs per pool of the run.</summary>
    public int PoolSize { get; init; }

    /// <summary>Redis commands executed during the measured window, by name (Redis inventories only).</summary>
    public IReadOnlyDictionary<string, long>? RedisCalls { get; init; }

    /// <summary>What drove the measured window: the .NET clients of this program, or <c>wrk</c> (<see cref="WrkLoad"/>).</summary>
    public string Client { get; init; } = "dotnet";

    /// <summary>wrk's 50th and 99th percentile over all requests (checkouts and returns together), when wrk drove it.</summary>
    public string? WrkLatency { get; init; }

    /// <summary>Redis commands per second the same server executed with no clients (the manager's own background work).</summary>
    public double? RedisIdlePerSecond { get; init; }

    public double PairsPerSecond => Pairs / Seconds;

    public double RequestsPerSecond => (Pairs * 2 + Empty) / Seconds;

    public double CpuMsPerCheckout => Pairs == 0 ? double.NaN : ServerCpuMs / Pairs;

    /// <summary>Empty (503) answers as a share of all checkout attempts.</summary>
    public double EmptyPercent => Pairs + Empty == 0 ? 0 : Empty * 100.0 / (Pairs + Empty);
}

/// <summary>
/// Closed-loop HTTP clients: each one checks a VM out (<c>POST /api/v3/vm/&lt;pool&gt;</c>), returns it
/// (<c>DELETE /api/v3/vm/&lt;host&gt;</c>) and starts again, over one shared connection pool with a connection per client.
/// </summary>
internal static class HttpLoad
{
    public static HttpClient CreateClient(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = Math.Max(1, connections),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    public static async Task<HttpPoint> RunAsync(
        string inventory,
        HttpClient client,
        Uri baseAddress,
        int serverPid,
        IReadOnlyList<string> pools,
        int clients,
        TimeSpan warmup,
        TimeSpan duration,
        RedisCommandStats? redisStats = null,
        string? wrkScript = null)
    {
        // Warm-up: the same loop, not measured (JIT, connections, pools settling).
        using (var warm = new CancellationTokenSource())
        {
            var warmers = Enumerable.Range(0, clients).Select(i => LoopAsync(client, baseAddress, pools[i % pools.Count], new Worker(), warm.Token)).ToList();
            await Task.Delay(warmup, TimeProvider.System);
            await warm.CancelAsync();
            await Task.WhenAll(warmers);
        }

        if (wrkScript is not null)
        {
            return await WrkLoad.RunAsync(inventory, wrkScript, baseAddress, serverPid, pools, clients, duration, redisStats);
        }

        var workers = Enumerable.Range(0, clients).Select(_ => new Worker()).ToList();
        var clientCpu = ProcessStats.CpuMilliseconds(Environment.ProcessId);
        var window = await MeasuredWindow.StartAsync(serverPid, redisStats);
        using var stop = new CancellationTokenSource();
        var loops = workers.Select((w, i) => LoopAsync(client, baseAddress, pools[i % pools.Count], w, stop.Token)).ToList();
        await Task.Delay(duration, TimeProvider.System);
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        var (seconds, serverCpuMs, redisCalls) = await window.EndAsync();
        var clientCpuMs = ProcessStats.CpuMilliseconds(Environment.ProcessId) - clientCpu;

        return new HttpPoint(
            inventory,
            clients,
            seconds,
            workers.Sum(w => w.Pairs),
            workers.Sum(w => w.Empty),
            workers.Sum(w => w.Errors),
            Latencies.Merge(workers.Select(w => w.Checkout)),
            Latencies.Merge(workers.Select(w => w.Return)),
            serverCpuMs,
            clientCpuMs,
            window.Load)
        {
            RedisCalls = redisCalls,
        };
    }

    /// <summary>Redis commands per second with no clients: the server is left alone for <paramref name="window"/>.</summary>
    public static async Task<double> IdleRedisRateAsync(RedisCommandStats redisStats, TimeSpan window)
    {
        await redisStats.ResetAsync();
        var clock = Stopwatch.StartNew();
        await Task.Delay(window, TimeProvider.System);
        var calls = await redisStats.ReadAsync();
        return calls.Values.Sum() / clock.Elapsed.TotalSeconds;
    }

    private sealed class Worker
    {
        public Latencies Checkout { get; } = new();
        public Latencies Return { get; } = new();
        public long Pairs;
        public long Empty;
        public long Errors;
    }

    /// <summary>Checkout then return until stopped; a started pair is always finished so no VM stays checked out.</summary>
    private static async Task LoopAsync(HttpClient client, Uri baseAddress, string pool, Worker worker, CancellationToken stop)
    {
        await Task.Yield();
        var checkoutUri = new Uri(baseAddress, "api/v3/vm/" + pool);
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            string? hostname;
            try
            {
                using var response = await client.PostAsync(checkoutUri, content: null, CancellationToken.None);
                var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    worker.Empty++;
                    continue;
                }

                hostname = response.IsSuccessStatusCode ? Hostname(body, pool) : null;
            }
            catch (HttpRequestException)
            {
                hostname = null;
            }

            if (hostname is null)
            {
                worker.Errors++;
                continue;
            }

            worker.Checkout.Add(Stopwatch.GetTimestamp() - started);
            started = Stopwatch.GetTimestamp();
            try
            {
                using var response = await client.DeleteAsync(new Uri(baseAddress, "api/v3/vm/" + hostname), CancellationToken.None);
                await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                if (!response.IsSuccessStatusCode)
                {
                    worker.Errors++;
                    continue;
                }
            }
            catch (HttpRequestException)
            {
                worker.Errors++;
                continue;
            }

            worker.Return.Add(Stopwatch.GetTimestamp() - started);
            worker.Pairs++;
        }
    }

    /// <summary>The hostname in <c>{"ok": true, "&lt;pool&gt;": {"hostname": "…"}}</c>.</summary>
    private static string? Hostname(byte[] body, string pool)
    {
        var reader = new Utf8JsonReader(body);
        var inPool = false;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.CurrentDepth == 1)
                {
                    inPool = reader.ValueTextEquals(pool);
                }
                else if (inPool && reader.CurrentDepth == 2 && reader.ValueTextEquals("hostname"u8))
                {
                    reader.Read();
                    return reader.GetString();
                }
            }
        }

        return null;
    }
}
