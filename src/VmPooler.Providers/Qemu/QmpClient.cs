using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VmPooler.Providers.Qemu;

/// <summary>
/// A small QMP client (QEMU Machine Protocol: JSON lines over the VM's Unix socket). One instance is one session:
/// connect, negotiate capabilities, run commands, dispose. Every step has a time limit on the injected clock, and
/// asynchronous events are skipped while waiting for a command's answer.
/// </summary>
internal sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private int _nextId;

    private QmpClient(Socket socket, TimeProvider time, TimeSpan timeout)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
        _time = time;
        _timeout = timeout;
    }

    /// <summary>Connects to <paramref name="socketPath"/>, reads the greeting and enters command mode.</summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, TimeProvider time, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        QmpClient? client = null;
        try
        {
            using (var connect = new TimeLimit(timeout, time, cancellationToken))
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), connect.Token);
            }

            client = new QmpClient(socket, time, timeout);
            using (var limit = client.Limit(cancellationToken))
            {
                // An event can come first (a RESUME left over from the previous client of the socket was seen): skip
                // events until the greeting.
                var greeting = await client.ReadMessageAsync(limit.Token);
                while (greeting["event"] is not null)
                {
                    greeting = await client.ReadMessageAsync(limit.Token);
                }

                if (greeting["QMP"] is null)
                {
                    throw new QmpException($"unexpected QMP greeting: {greeting.ToJsonString()}");
                }
            }

            await client.ExecuteAsync("qmp_capabilities", null, cancellationToken);
            return client;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await DisposeAsync(client, socket);
            throw new TimeoutException($"QMP socket {socketPath} did not answer within {timeout.TotalSeconds:0.#} s");
        }
        catch
        {
            await DisposeAsync(client, socket);
            throw;
        }
    }

    private static async ValueTask DisposeAsync(QmpClient? client, Socket socket)
    {
        if (client is not null)
        {
            await client.DisposeAsync();
        }
        else
        {
            socket.Dispose();
        }
    }

    /// <summary>Runs a command and returns its <c>return</c> value; a QMP error becomes a <see cref="QmpException"/>.</summary>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, CancellationToken cancellationToken)
    {
        var id = "c" + Interlocked.Increment(ref _nextId);
        var request = new JsonObject { ["execute"] = command, ["id"] = id };
        if (arguments is not null)
        {
            request["arguments"] = arguments;
        }

        using var limit = Limit(cancellationToken);
        try
        {
            var bytes = Encoding.UTF8.GetBytes(request.ToJsonString() + "\n");
            await _stream.WriteAsync(bytes, limit.Token);
            while (true)
            {
                var message = await ReadMessageAsync(limit.Token);
                if (message["event"] is not null)
                {
                    continue;
                }

                if (message["id"]?.GetValue<string>() is { } answered && answered != id)
                {
                    continue;
                }

                if (message["error"] is JsonObject error)
                {
                    throw new QmpException($"QMP {command} failed: {error["desc"]?.GetValue<string>() ?? error.ToJsonString()}");
                }

                return message["return"];
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"QMP {command} did not answer within {_timeout.TotalSeconds:0.#} s");
        }
    }

    /// <summary>Runs a human-monitor (HMP) command line and returns its text output (HMP reports errors in the text).</summary>
    public async Task<string> HumanAsync(string commandLine, CancellationToken cancellationToken)
    {
        var result = await ExecuteAsync("human-monitor-command", new JsonObject { ["command-line"] = commandLine }, cancellationToken);
        return result?.GetValue<string>() ?? "";
    }

    /// <summary>The run state (<c>running</c>, <c>paused</c>, <c>inmigrate</c>, <c>postmigrate</c>, …).</summary>
    public async Task<string> StatusAsync(CancellationToken cancellationToken)
        => (await ExecuteAsync("query-status", null, cancellationToken))?["status"]?.GetValue<string>() ?? "";

    private TimeLimit Limit(CancellationToken cancellationToken) => new(_timeout, _time, cancellationToken);

    private async Task<JsonObject> ReadMessageAsync(CancellationToken cancellationToken)
    {
        var line = await _reader.ReadLineAsync(cancellationToken)
            ?? throw new QmpException("QMP connection closed by QEMU");
        try
        {
            return JsonNode.Parse(line) as JsonObject ?? throw new QmpException($"QMP sent a non-object: {line}");
        }
        catch (JsonException ex)
        {
            throw new QmpException($"QMP sent invalid JSON: {line}", ex);
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>QEMU refused a command or broke the protocol.</summary>
public sealed class QmpException : Exception
{
    public QmpException(string message)
        : base(message)
    {
    }

    public QmpException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
