using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace VmPooler.LoadGen;

/// <summary>
/// The real service, <c>dotnet vmpooler.dll</c> (the Release build), run as a separate process in a temporary directory
/// with its own configuration file. Its output goes to a log file there; disposing kills it by its process id.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly string[] ScrubbedVariables =
    [
        "VMPOOLER_CONFIG", "VMPOOLER_CONFIG_FILE", "EXTRA_CONFIG", "ASPNETCORE_URLS", "DOTNET_URLS", "REDIS_SERVER",
    ];

    private const string ServerOnlyPrefix = "BENCH_SERVER_";

    private readonly Process _process;

    private ServerProcess(Process process, Uri baseAddress, string directory)
    {
        _process = process;
        BaseAddress = baseAddress;
        Directory = directory;
    }

    public Uri BaseAddress { get; }

    public string Directory { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string LogPath => Path.Combine(Directory, "vmpooler.log");

    /// <summary>
    /// Starts the service with <paramref name="yaml"/> as its configuration, in <paramref name="role"/>, with
    /// <paramref name="extraArguments"/> after the usual ones (e.g. <c>--manager-id</c>).
    /// </summary>
    public static ServerProcess Start(
        string vmpoolerDll, string yaml, string role, IReadOnlyDictionary<string, string>? environment = null, IReadOnlyList<string>? extraArguments = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("vmpooler-bench-server-").FullName;
        var config = Path.Combine(directory, "bench.yaml");
        File.WriteAllText(config, yaml);
        var baseAddress = new Uri($"http://127.0.0.1:{Bench.Shared.LocalRedisServer.FreePort()}/");
        // The service's output goes straight to its log file (sh redirects, then execs dotnet, so the process id is
        // the service's): relaying it through this process would put a write per log line on the load generator's CPU,
        // which shares the machine with the service it measures.
        var info = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = directory,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-c", "exec \"$0\" \"$@\" >vmpooler.log 2>&1", "dotnet", vmpoolerDll, "--config", config, "--role", role, "--urls", baseAddress.ToString().TrimEnd('/') }.Concat(extraArguments ?? []))
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var variable in ScrubbedVariables)
        {
            info.Environment.Remove(variable);
        }

        info.Environment["DOTNET_gcServer"] = "0";

        // BENCH_SERVER_X=V sets X=V for the service only (a runtime knob A/B-tested without changing the load generator).
        foreach (var (key, value) in info.Environment.Where(e => e.Key.StartsWith(ServerOnlyPrefix, StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
            info.Environment[key[ServerOnlyPrefix.Length..]] = value;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet " + vmpoolerDll);
        return new ServerProcess(process, baseAddress, directory);
    }

    /// <summary>Waits until the API answers and every pool is full (<c>/status</c> capacity current == total).</summary>
    public async Task WaitUntilFullAsync(HttpClient client, TimeSpan limit)
    {
        var started = Stopwatch.StartNew();
        var last = "no answer yet";
        while (started.Elapsed < limit)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"vmpooler exited with {_process.ExitCode}; see {LogPath}");
            }

            try
            {
                var status = await client.GetFromJsonAsync<JsonObject>(new Uri(BaseAddress, "api/v3/status?view=capacity"));
                var current = (int?)status?["capacity"]?["current"];
                var total = (int?)status?["capacity"]?["total"];
                last = $"{current}/{total} ready";
                if (current is not null && current == total)
                {
                    return;
                }
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
        }

        throw new TimeoutException($"the pools did not fill within {limit.TotalSeconds} s ({last}); see {LogPath}");
    }

    /// <summary>SIGKILL, as a crash would; the process stays until <see cref="Dispose"/> (which then only cleans up).</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();

        if (Environment.GetEnvironmentVariable("BENCH_KEEP") is not { Length: > 0 })
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
