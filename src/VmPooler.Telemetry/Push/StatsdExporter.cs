using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Metrics;

namespace VmPooler.Telemetry.Push;

/// <summary>statsd over UDP: lines joined by newlines into datagrams of at most <see cref="MaxDatagram"/> bytes.</summary>
internal sealed class StatsdExporter(VmPoolerMetrics metrics, PushMetricsOptions options, TimeProvider timeProvider, ILogger<StatsdExporter> logger, int capacity = PushMetricsExporter.DefaultCapacity)
    : PushMetricsExporter("statsd", metrics, options, timeProvider, logger, capacity)
{
    /// <summary>Fits an Ethernet MTU with IP and UDP headers (the statsd recommendation).</summary>
    public const int MaxDatagram = 1432;

    private UdpClient? _client;

    protected override string Format(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        => PushLineFormat.Statsd(Options.Prefix, instrument, value, tags);

    protected override async Task<string?> SendAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        try
        {
            if (_client is null)
            {
                var client = new UdpClient();
                try
                {
                    client.Connect(Options.Server, Options.Port);
                }
                catch
                {
                    client.Dispose();
                    throw;
                }

                _client = client;
            }

            foreach (var datagram in Datagrams(lines))
            {
                await _client.SendAsync(datagram, cancellationToken);
            }

            return null;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // UDP: nothing to retry against (an ICMP "unreachable" only says nobody listened). Drop this batch.
            _client?.Dispose();
            _client = null;
            CountDropped(lines.Count);
            return null;
        }
    }

    /// <summary>Packs lines into newline-separated datagrams of at most <see cref="MaxDatagram"/> bytes (a longer line goes alone).</summary>
    internal static IEnumerable<byte[]> Datagrams(IReadOnlyList<string> lines)
    {
        var current = new StringBuilder();
        var bytes = 0;
        foreach (var line in lines)
        {
            var size = Encoding.UTF8.GetByteCount(line);
            if (current.Length > 0 && bytes + 1 + size > MaxDatagram)
            {
                yield return Encoding.UTF8.GetBytes(current.ToString());
                current.Clear();
                bytes = 0;
            }

            if (current.Length > 0)
            {
                current.Append('\n');
                bytes++;
            }

            current.Append(line);
            bytes += size;
        }

        if (current.Length > 0)
        {
            yield return Encoding.UTF8.GetBytes(current.ToString());
        }
    }

    public override void Dispose()
    {
        _client?.Dispose();
        base.Dispose();
    }
}
