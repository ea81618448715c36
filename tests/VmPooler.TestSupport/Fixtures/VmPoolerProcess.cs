using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// The real <c>vmpooler</c> executable (<c>dotnet vmpooler.dll</c>, copied next to the test assembly through the
/// project reference) run as a separate process in an empty temporary working directory, with none of the
/// configuration variables of the test environment. Disposing kills it (and anything it started) and removes the
/// directory.
/// </summary>
public sealed class VmPoolerProcess : IAsyncDisposable
{
    /// <summary>Variables that would make the process load something other than what a test intends.</summary>
    private static readonly string[] ScrubbedVariables =
    [
        "VMPOOLER_CONFIG", "VMPOOLER_CONFIG_FILE", "EXTRA_CONFIG", "ASPNETCORE_URLS", "DOTNET_URLS", "REDIS_SERVER", "PORT",
    ];

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private VmPoolerProcess(Process process, string workingDirectory, Uri? baseAddress)
    {
        _process = process;
        WorkingDirectory = workingDirectory;
        BaseAddress = baseAddress;
        Client = VmPoolerServer.CreateClient(baseAddress ?? new Uri("http://127.0.0.1:1/"));
    }

    /// <summary>The temporary working directory (empty: no vmpooler.yaml).</summary>
    public string WorkingDirectory { get; }

    /// <summary>Where the process was told to listen, or null when no address was given.</summary>
    public Uri? BaseAddress { get; }

    public HttpClient Client { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The operating-system process id.</summary>
    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>What the process has written to stdout so far.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>What the process has written to stderr so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The built <c>vmpooler.dll</c> next to the test assembly.</summary>
    public static string ExecutablePath
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "vmpooler.dll");
            File.Exists(path).ShouldBeTrue($"vmpooler.dll should be copied next to the tests ({path}) by the project reference to src/VmPooler");
            return path;
        }
    }

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// Starts <c>dotnet vmpooler.dll</c> with <paramref name="arguments"/>, listening on a free loopback port unless
    /// <paramref name="listen"/> is false, with the scrubbed environment plus <paramref name="environment"/>.
    /// </summary>
    public static VmPoolerProcess Start(IEnumerable<string>? arguments = null, IReadOnlyDictionary<string, string>? environment = null, bool listen = true)
    {
        var workingDirectory = Directory.CreateTempSubdirectory("vmpooler-e2e-").FullName;
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(ExecutablePath);
        Uri? baseAddress = null;
        if (listen)
        {
            baseAddress = new Uri($"http://127.0.0.1:{FreePort()}/");
            startInfo.ArgumentList.Add("--urls");
            startInfo.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        }

        foreach (var argument in arguments ?? [])
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var name in ScrubbedVariables)
        {
            startInfo.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var result = new VmPoolerProcess(process, workingDirectory, baseAddress);
        process.OutputDataReceived += (_, e) => result.Append(result._stdout, result._outputClosed, e.Data);
        process.ErrorDataReceived += (_, e) => result.Append(result._stderr, result._errorClosed, e.Data);
        process.Start().ShouldBeTrue();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Waits until the process exits by itself and its output has been read; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout, TimeProvider.System);
        await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(timeout, TimeProvider.System);
        return _process.ExitCode;
    }

    /// <summary>
    /// Kills the process at once, as a crash or an out-of-memory kill would (<see cref="Process.Kill(bool)"/> sends
    /// SIGKILL on Unix: no shutdown code runs, nothing is released), and waits until it is gone. The output read so
    /// far stays available.
    /// </summary>
    public async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited in between.
        }

        await _process.WaitForExitAsync().DefaultTimeout();
    }

    /// <summary>Waits until the process has written <paramref name="text"/> to stdout or stderr; fails early if it exits first.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout)
        => AsyncTestHelpers.WaitUntilAsync(
            () =>
            {
                if (StandardOutput.Contains(text, StringComparison.Ordinal) || StandardError.Contains(text, StringComparison.Ordinal))
                {
                    return true;
                }

                return _process.HasExited
                    ? throw new InvalidOperationException($"the process exited before writing \"{text}\": {Describe(50)}")
                    : false;
            },
            $"the process writes \"{text}\"",
            timeout);

    /// <summary>Sends a request to the process (which must be listening).</summary>
    public Task<ApiResponse> SendAsync(HttpMethod method, string path, string? body = null)
        => VmPoolerServer.SendAsync(Client, method, path, body);

    /// <summary>A description of the process for assertion messages.</summary>
    public string Describe()
        => $"vmpooler process (exited: {_process.HasExited}{(_process.HasExited ? ", code " + _process.ExitCode : "")})\n"
            + $"--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";

    /// <summary>Like <see cref="Describe()"/>, but only the last <paramref name="lines"/> lines of each stream (for chatty processes).</summary>
    public string Describe(int lines)
        => $"vmpooler process {_process.Id} (exited: {_process.HasExited}{(_process.HasExited ? ", code " + _process.ExitCode : "")})\n"
            + $"--- stdout (last {lines} lines) ---\n{Tail(StandardOutput, lines)}\n--- stderr (last {lines} lines) ---\n{Tail(StandardError, lines)}";

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().DefaultTimeout();
            }
        }
        catch (InvalidOperationException)
        {
            // It exited in between.
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(WorkingDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private void Append(StringBuilder buffer, TaskCompletionSource closed, string? line)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }

    private static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return all.Length <= lines ? text : string.Join('\n', all[^lines..]);
    }

    /// <summary>The dotnet host running these tests (set by the SDK for child processes), else <c>dotnet</c> on the PATH.</summary>
    private static string DotnetHost()
        => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
