using System.Net.Sockets;
using System.Text;
using VmPooler.Core.Providers;

namespace VmPooler.Providers.Libvirt;

/// <summary>
/// Whether a VM answers on its SSH address: a TCP connect, and for the SSH check the server's banner (<c>SSH-</c>).
/// The banner matters with forwarded ports: QEMU's user-mode forward accepts connections before the guest listens.
/// </summary>
internal static class SshProbe
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public static async Task<ReadyCheckResult> CheckAsync(string host, int port, bool banner, TimeProvider time, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
            if (!banner)
            {
                return ReadyCheckResult.Ready;
            }

            var stream = client.GetStream();
            var buffer = new byte[256];
            var read = 0;
            while (read < 4)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), linked.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return ReadyCheckResult.NotReady($"{host}:{port} closed the connection before sending an SSH banner");
                }

                read += n;
            }

            return Encoding.ASCII.GetString(buffer, 0, 4) == "SSH-"
                ? ReadyCheckResult.Ready
                : ReadyCheckResult.NotReady($"{host}:{port} answered without an SSH banner");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ReadyCheckResult.NotReady($"no SSH banner from {host}:{port} within {Timeout.TotalSeconds:0} s");
        }
        catch (SocketException ex)
        {
            return ReadyCheckResult.NotReady($"{host}:{port}: {ex.Message}");
        }
        catch (IOException ex)
        {
            return ReadyCheckResult.NotReady($"{host}:{port}: {ex.Message}");
        }
    }
}
