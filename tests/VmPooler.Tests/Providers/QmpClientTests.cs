using System.Net.Sockets;
using System.Text;
using VmPooler.Providers.Qemu;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Providers;

/// <summary>
/// The QMP client's handshake against a scripted peer on a real Unix socket: what QEMU sends is written line by line,
/// and what the client sends back is read.
/// </summary>
public sealed class QmpClientTests : IDisposable
{
    private const string Greeting = """{"QMP": {"version": {"qemu": {"micro": 2, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}""";

    private readonly string _directory = Directory.CreateTempSubdirectory("vmpooler-qmp-").FullName;

    private string SocketPath => Path.Combine(_directory, "qmp.sock");

    [Fact]
    public async Task ConnectAsync_EventBeforeTheGreeting_SkipsItAndEntersCommandMode()
    {
        using var listener = Listen();
        var peer = ServeAsync(listener, """{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}""", Greeting);

        await using var client = await QmpClient.ConnectAsync(SocketPath, TimeProvider.System, TimeSpan.FromSeconds(10), CancellationToken.None);

        (await peer.DefaultTimeout()).ShouldContain("\"execute\":\"qmp_capabilities\"");
    }

    [Fact]
    public async Task ConnectAsync_NoGreeting_ClearError()
    {
        using var listener = Listen();
        var peer = ServeAsync(listener, """{"return": {}}""");

        var error = await Should.ThrowAsync<QmpException>(QmpClient.ConnectAsync(SocketPath, TimeProvider.System, TimeSpan.FromSeconds(10), CancellationToken.None));

        error.Message.ShouldStartWith("unexpected QMP greeting");
        await peer.DefaultTimeout();
    }

    private Socket Listen()
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        listener.Listen(1);
        return listener;
    }

    /// <summary>Accepts one client, sends <paramref name="lines"/>, answers its first command and returns that command.</summary>
    private static async Task<string> ServeAsync(Socket listener, params string[] lines)
    {
        using var peer = await listener.AcceptAsync();
        await using var stream = new NetworkStream(peer, ownsSocket: false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n"))));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var command = await reader.ReadLineAsync() ?? "";
        if (command.Length > 0)
        {
            var id = System.Text.Json.Nodes.JsonNode.Parse(command)?["id"]?.GetValue<string>();
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"{{\"return\": {{}}, \"id\": \"{id}\"}}\n"));
        }

        return command;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
