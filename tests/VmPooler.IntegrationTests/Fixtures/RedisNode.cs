using System.Diagnostics;
using System.Globalization;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// One <c>redis-server</c> (or <c>redis-server --sentinel</c>) process on a fixed loopback port that a test kills with
/// SIGKILL and starts again with other arguments (a primary that comes back as a replica), unlike
/// <see cref="RedisServer"/>, whose arguments are fixed.
/// </summary>
public sealed class RedisNode : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    public RedisNode(string name)
    {
        Name = name;
        Port = RedisServer.FreePort();
        _directory = System.IO.Directory.CreateTempSubdirectory("vmpooler-redis-" + name + "-").FullName;
    }

    public string Name { get; }

    public int Port { get; }

    public string Directory => _directory;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts <c>redis-server</c> with <paramref name="arguments"/> (a config file first, for a sentinel) and waits until it answers.</summary>
    public async Task StartAsync(params string[] arguments)
    {
        var executable = RedisServer.FindExecutable("redis-server")
            ?? throw new InvalidOperationException("redis-server is not installed: apt-get install -y redis-server");
        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _directory };
        foreach (var argument in arguments.Concat(["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory, "--protected-mode", "no"]))
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start redis-server");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await AsyncTestHelpers.WaitUntilAsync(() => RedisServer.PingAsync(Port), $"{Name} answers on port {Port}", TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().DefaultTimeout();
        }

        _process?.Dispose();
        _process = null;
    }

    public Task<string> CliAsync(params string[] arguments) => RedisCli.RunAsync(["-p", Port.ToString(CultureInfo.InvariantCulture), .. arguments]);

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
