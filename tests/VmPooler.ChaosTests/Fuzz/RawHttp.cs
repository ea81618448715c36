using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VmPooler.ChaosTests.Fuzz;

/// <summary>One answer read off the wire.</summary>
internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? ContentType => Headers.GetValueOrDefault("content-type");
}

/// <summary>
/// A minimal HTTP/1.1 client on a raw socket, so requests go out exactly as generated: control characters and
/// traversal sequences in the target, malformed headers, bodies that disagree with their labels. One connection per
/// request (<c>Connection: close</c>).
/// </summary>
internal static class RawHttp
{
    public static async Task<RawResponse> SendAsync(int port, byte[] request, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout, TimeProvider.System);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, cancel.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, cancel.Token);
        }
        catch (IOException)
        {
            // The server may answer (e.g. 431) and close before reading everything; the answer is still read below.
        }

        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancel.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException) when (received.Length > 0)
        {
            // Reset after the answer (the server closed with unread request bytes).
        }

        return Parse(received.ToArray());
    }

    public static byte[] Build(string method, string target, IEnumerable<(string Name, string Value)> headers, byte[]? body)
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        var hasLength = false;
        foreach (var (name, value) in headers)
        {
            hasLength |= name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase);
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (!hasLength)
        {
            head.Append("Content-Length: ").Append((body?.Length ?? 0).ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.UTF8.GetBytes(head.ToString()), .. body ?? []];
    }

    private static RawResponse Parse(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            throw new InvalidDataException($"no complete HTTP answer ({bytes.Length} bytes): {text[..Math.Min(200, text.Length)]}");
        }

        var lines = text[..end].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var body = text[(end + 4)..];
        if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }

        return new RawResponse(status, headers, body);
    }

    private static string Dechunk(string chunked)
    {
        var result = new StringBuilder();
        var position = 0;
        while (position < chunked.Length)
        {
            var lineEnd = chunked.IndexOf("\r\n", position, StringComparison.Ordinal);
            var size = int.Parse(chunked[position..lineEnd].Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                break;
            }

            // Sizes count bytes; the bodies are ASCII JSON or UTF-8 whose chunks Kestrel does not split mid-character.
            var bytes = Encoding.UTF8.GetBytes(chunked[(lineEnd + 2)..]);
            var piece = Encoding.UTF8.GetString(bytes, 0, size);
            result.Append(piece);
            position = lineEnd + 2 + piece.Length + 2;
        }

        return result.ToString();
    }
}
