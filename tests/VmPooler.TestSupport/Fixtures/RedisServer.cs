using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, started for a test class (or a collection) and stopped with it.
/// Without persistence unless asked; <see cref="StopAsync"/> and <see cref="StartAsync"/> let outage tests take it
/// away and bring it back on the same port. Fails with the apt package to install when Redis is missing.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string[] _extraArguments;
    private Process? _process;

    private RedisServer(int port, string directory, string[] extraArguments)
    {
        Port = port;
        _directory = directory;
        _extraArguments = extraArguments;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The data directory (for AOF files).</summary>
    public string Directory => _directory;

    /// <summary>Starts a server; <paramref name="extraArguments"/> are redis-server options such as <c>--appendonly yes</c>.</summary>
    public static async Task<RedisServer> StartNewAsync(params string[] extraArguments)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("vmpooler-redis-").FullName;
        var server = new RedisServer(FreePort(), directory, extraArguments);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var executable = FindExecutable("redis-server")
            ?? throw new InvalidOperationException("redis-server is not installed: apt-get install -y redis-server (the tests need a real Redis)");
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory, "--protected-mode", "no" }.Concat(_extraArguments))
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start redis-server");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await AsyncTestHelpers.WaitUntilAsync(() => PingAsync(Port), $"redis-server answers on port {Port}", TimeSpan.FromSeconds(10));
    }

    /// <summary>Stops the server at once (SIGKILL), as a crash or an outage would.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().DefaultTimeout();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Runs a redis-cli command against this server and returns its output.</summary>
    public Task<string> CliAsync(params string[] arguments) => RedisCli.RunAsync(["-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments]);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string? FindExecutable(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/usr/local/bin").Split(':')
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    public static async Task<bool> PingAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
            // +PONG, or -NOAUTH from a server started with --requirepass: either way it answers.
            return read > 0 && (buffer[0] == (byte)'+' || System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("-NOAUTH", StringComparison.Ordinal));
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }
}

/// <summary>redis-cli, for setting up clusters and inspecting keys from tests.</summary>
public static class RedisCli
{
    public static async Task<string> RunAsync(params string[] arguments)
    {
        var executable = RedisServer.FindExecutable("redis-cli")
            ?? throw new InvalidOperationException("redis-cli is not installed: apt-get install -y redis-tools");
        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        return (await output) + (await error);
    }
}
