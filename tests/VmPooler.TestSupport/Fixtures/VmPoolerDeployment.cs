using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.MultiProcess;

/// <summary>One pool's line of <c>GET /api/v3/status</c>.</summary>
public sealed record PoolFigures(int Ready, int Running, int Pending, int Max)
{
    public override string ToString() => $"ready {Ready}, running {Running}, pending {Pending}, max {Max}";
}

/// <summary>What <c>GET /api/v3/status?view=pools,queue</c> says: every pool's figures and the number of completed VMs.</summary>
public sealed record StatusFigures(IReadOnlyDictionary<string, PoolFigures> Pools, int Completed)
{
    public override string ToString()
        => string.Join("; ", Pools.Select(p => $"{p.Key}: {p.Value}")) + $"; completed {Completed}";
}

/// <summary>
/// A deployment of real <c>vmpooler</c> processes (<c>--role api</c> and <c>--role manager</c>) sharing one real
/// <c>redis-server</c>, configured through a YAML file whose <c>:redis:</c> section points at that server with a key
/// prefix of its own. Disposing kills every process it started (even when the test failed), writes the end of each
/// process's log to the test output, stops Redis and removes the files.
/// </summary>
public sealed class VmPoolerDeployment : IAsyncDisposable
{
    private readonly List<(string Name, VmPoolerProcess Process)> _processes = [];
    private readonly HashSet<VmPoolerProcess> _killed = [];
    private readonly ITestOutputHelper _output;
    private readonly string _directory;

    private VmPoolerDeployment(ITestOutputHelper output, RedisServer redis, string directory, string configPath, string keyPrefix)
    {
        _output = output;
        Redis = redis;
        _directory = directory;
        ConfigPath = configPath;
        KeyPrefix = keyPrefix;
    }

    public RedisServer Redis { get; }

    /// <summary>The YAML file every process is started with.</summary>
    public string ConfigPath { get; }

    /// <summary>The <c>redis.key_prefix</c> of this deployment (unique per test).</summary>
    public string KeyPrefix { get; }

    /// <summary>How many lines of each process's log <see cref="DisposeAsync"/> writes to the test output.</summary>
    public int LogLinesOnDispose { get; set; } = 200;

    /// <summary>
    /// Starts Redis (with <paramref name="redisArguments"/>) and writes the configuration: a <c>:redis:</c> section for
    /// that server followed by <paramref name="yamlBody"/> (the other top-level sections).
    /// </summary>
    public static async Task<VmPoolerDeployment> StartAsync(ITestOutputHelper output, string yamlBody, params string[] redisArguments)
    {
        var redis = await RedisServer.StartNewAsync(redisArguments);
        try
        {
            var directory = Directory.CreateTempSubdirectory("vmpooler-multi-").FullName;
            var keyPrefix = "mp-" + Guid.NewGuid().ToString("N")[..12];
            var yaml = $"""
                ---
                :redis:
                  server: '127.0.0.1'
                  port: {redis.Port.ToString(CultureInfo.InvariantCulture)}
                  key_prefix: '{keyPrefix}'

                """ + yamlBody;
            var configPath = Path.Combine(directory, "vmpooler.yaml");
            await File.WriteAllTextAsync(configPath, yaml);
            return new VmPoolerDeployment(output, redis, directory, configPath, keyPrefix);
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts an API process (<c>--role api</c>) on its own free loopback port and waits until it answers <c>/status</c>.</summary>
    public async Task<VmPoolerProcess> StartApiAsync(string name)
    {
        var process = Start(name, "api");
        await WaitUntilAnsweringAsync(process, TimeSpan.FromSeconds(30));
        return process;
    }

    /// <summary>
    /// Starts a manager process (<c>--role manager</c>, also on a loopback port, where it answers only 404), with
    /// <paramref name="arguments"/> after the usual ones (e.g. <c>--manager-id</c>).
    /// </summary>
    public VmPoolerProcess StartManager(string name, params string[] arguments) => Start(name, "manager", arguments);

    /// <summary>
    /// Kills a process with SIGKILL, as a crash would (it stays in the list, so its log is still written out at the end,
    /// and <see cref="ShouldAllBeRunning"/> no longer expects it).
    /// </summary>
    public async Task KillAsync(VmPoolerProcess process)
    {
        _killed.Add(process);
        await process.KillAsync();
    }

    /// <summary>Fails with the process's log if any process it started (and did not kill on purpose) has exited.</summary>
    public void ShouldAllBeRunning()
    {
        foreach (var (name, process) in _processes.Where(p => !_killed.Contains(p.Process)))
        {
            process.HasExited.ShouldBeFalse($"{name} exited: {process.Describe(80)}");
        }
    }

    /// <summary>
    /// <see cref="AsyncTestHelpers.WaitUntilAsync(Func{Task{bool}}, string, TimeSpan?)"/> whose failure message is made
    /// when it fails (so it can show the last state seen).
    /// </summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> because, TimeSpan timeout)
    {
        try
        {
            await AsyncTestHelpers.WaitUntilAsync(condition, "(see below)", timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting until {because()}");
        }
    }

    /// <summary>Every key of this deployment in Redis with its content (for failure messages).</summary>
    public async Task<string> DumpRedisAsync()
    {
        var dump = new System.Text.StringBuilder();
        var keys = (await Redis.CliAsync("--scan", "--pattern", KeyPrefix + ":*")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var key in keys.Where(k => !k.Contains(":vm:", StringComparison.Ordinal) && !k.Contains("{stats}", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var type = (await Redis.CliAsync("type", key)).Trim();
            var content = type switch
            {
                "zset" => await Redis.CliAsync("zrange", key, "0", "-1"),
                "set" => await Redis.CliAsync("smembers", key),
                "hash" => await Redis.CliAsync("hlen", key),
                "string" => await Redis.CliAsync("get", key) + " ttl " + await Redis.CliAsync("pttl", key),
                _ => "",
            };
            dump.AppendLine($"{key} ({type}): {content.ReplaceLineEndings(" ").Trim()}");
            if (key.EndsWith(":pending", StringComparison.Ordinal) && type == "set")
            {
                // The pending VMs' own fields: what registered them, and when.
                foreach (var vm in content.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var hash = key[..^"pending".Length] + "vm:" + vm;
                    dump.AppendLine($"  {hash}: {(await Redis.CliAsync("hgetall", hash)).ReplaceLineEndings(" ").Trim()}");
                }
            }
        }

        return dump.ToString();
    }

    /// <summary>Reads <c>/status?view=pools,queue</c> through <paramref name="client"/>; null when the answer is not 200.</summary>
    public static async Task<StatusFigures?> TryReadStatusAsync(HttpClient client)
    {
        try
        {
            var response = await VmPoolerServer.SendAsync(client, HttpMethod.Get, "api/v3/status?view=pools,queue");
            if (response.Status != HttpStatusCode.OK)
            {
                return null;
            }

            var body = response.Object;
            var pools = body["pools"]!.AsObject().ToDictionary(
                p => p.Key,
                p => new PoolFigures(Int(p.Value!, "ready"), Int(p.Value!, "running"), Int(p.Value!, "pending"), Int(p.Value!, "max")),
                StringComparer.Ordinal);
            return new StatusFigures(pools, Int(body["queue"]!, "completed"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Reads the status, failing when it cannot be read.</summary>
    public static async Task<StatusFigures> ReadStatusAsync(HttpClient client)
        => await TryReadStatusAsync(client) ?? throw new InvalidOperationException($"GET /api/v3/status through {client.BaseAddress} did not answer 200");

    /// <summary>Whether every pool has exactly its size ready, nothing pending, running or completed.</summary>
    public static bool IsFullAndIdle(StatusFigures? status)
        => status is not null && status.Completed == 0
            && status.Pools.Values.All(p => p.Ready == p.Max && p.Pending == 0 && p.Running == 0);

    public async ValueTask DisposeAsync()
    {
        // Kill them all first (the API processes would otherwise keep the dead manager's Redis busy), then report.
        foreach (var (name, process) in _processes)
        {
            try
            {
                await process.KillAsync();
            }
            catch (Exception ex)
            {
                Write($"killing {name} failed: {ex.Message}");
            }
        }

        foreach (var (name, process) in _processes)
        {
            Write($"===== {name} =====\n{process.Describe(LogLinesOnDispose)}");
            await process.DisposeAsync();
        }

        await Redis.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Write(string text)
    {
        try
        {
            _output.WriteLine(text);
        }
        catch (InvalidOperationException)
        {
            // The output helper is no longer accepting lines.
        }
    }

    private VmPoolerProcess Start(string name, string role, string[]? arguments = null)
    {
        var process = VmPoolerProcess.Start(["--config", ConfigPath, "--role", role, .. arguments ?? []]);
        _processes.Add((name, process));
        return process;
    }

    private static async Task WaitUntilAnsweringAsync(VmPoolerProcess process, TimeSpan timeout)
        => await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException("vmpooler exited while starting: " + process.Describe(80));
                }

                return await TryReadStatusAsync(process.Client) is not null;
            },
            $"the API process on {process.BaseAddress} answers GET /api/v3/status",
            timeout);

    private static int Int(JsonNode node, string key) => node[key]!.GetValue<int>();
}
