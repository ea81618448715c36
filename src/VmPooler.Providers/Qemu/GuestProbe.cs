using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VmPooler.Providers.Qemu;

/// <summary>Talking to a guest from the host: its SSH banner, and its serial console.</summary>
internal static class GuestProbe
{
    /// <summary>
    /// Null when an SSH banner (<c>SSH-</c>) can be read from <paramref name="address"/>:<paramref name="port"/>, else why
    /// not. A bare TCP connect proves nothing: QEMU's port forward accepts connections before the guest runs.
    /// </summary>
    public static async Task<string?> SshBannerProblemAsync(string address, int port, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var limit = new TimeLimit(timeout, time, cancellationToken);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(address), port), limit.Token);
            var buffer = new byte[64];
            var read = 0;
            while (read < 4)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, limit.Token);
                if (n == 0)
                {
                    return $"{address}:{port} closed the connection before an SSH banner";
                }

                read += n;
            }

            var text = Encoding.ASCII.GetString(buffer, 0, read);
            return text.StartsWith("SSH-", StringComparison.Ordinal) ? null : $"{address}:{port} answered \"{text.Trim()}\", not an SSH banner";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no SSH banner on {address}:{port} within {timeout.TotalSeconds:0.#} s";
        }
        catch (SocketException ex)
        {
            return $"no SSH banner on {address}:{port}: {ex.Message}";
        }
    }

    /// <summary>
    /// Sends <paramref name="line"/> to the guest's serial console and returns the rest of the first line the guest
    /// prints that starts with <paramref name="answerPrefix"/> (for a program reading the console, not the shell).
    /// </summary>
    public static Task<string> ExchangeOnConsoleAsync(string serialSocket, string line, string answerPrefix, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
        => ConverseAsync(
            serialSocket,
            line + "\n",
            text =>
            {
                var at = text.IndexOf(answerPrefix, StringComparison.Ordinal);
                var end = at < 0 ? -1 : text.IndexOf('\n', at);
                return end < 0 ? null : text[(at + answerPrefix.Length)..end].TrimEnd('\r');
            },
            timeout,
            time,
            cancellationToken);

    /// <summary>
    /// Runs shell commands on the guest's serial console (a root shell on ttyS0), waits until they finished and returns
    /// what they printed. The output is framed by markers computed by the shell, so the echo of the command line itself
    /// does not match them. <paramref name="after"/> runs after the end marker, so nobody waits for it.
    /// </summary>
    public static Task<string> RunOnConsoleAsync(string serialSocket, string commands, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken, string? after = null)
    {
        var nonce = Guid.NewGuid().ToString("N")[..10];
        var begin = $"VMP42B{nonce}";
        var end = $"VMP42E{nonce}";
        return ConverseAsync(
            serialSocket,
            $"\necho VMP$((6*7))B{nonce}; {commands}; echo VMP$((6*7))E{nonce}{(after is null ? "" : "; " + after)}\n",
            text =>
            {
                var done = text.IndexOf(end, StringComparison.Ordinal);
                if (done < 0)
                {
                    return null;
                }

                var from = text.IndexOf(begin, 0, done, StringComparison.Ordinal);
                return from < 0 ? "" : text[(from + begin.Length)..done].Replace("\r", "", StringComparison.Ordinal).Trim();
            },
            timeout,
            time,
            cancellationToken);
    }

    /// <summary>
    /// Connects to the serial console, sends <paramref name="send"/> and reads what the guest prints until
    /// <paramref name="answer"/> finds what it waits for in it (non-null).
    /// </summary>
    private static async Task<string> ConverseAsync(string serialSocket, string send, Func<string, string?> answer, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var limit = new TimeLimit(timeout, time, cancellationToken);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(serialSocket), limit.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes(send), SocketFlags.None, limit.Token);
            var seen = new StringBuilder();
            var buffer = new byte[4096];
            string? found;
            while ((found = answer(seen.ToString())) is null)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token);
                if (n == 0)
                {
                    throw new InvalidOperationException("the serial console closed");
                }

                seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
                if (seen.Length > 65536)
                {
                    seen.Remove(0, seen.Length - 1024);
                }
            }

            return found;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the guest's serial console did not answer within {timeout.TotalSeconds:0.#} s");
        }
    }
}
