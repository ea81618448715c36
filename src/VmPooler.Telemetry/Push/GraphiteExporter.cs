using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Metrics;

namespace VmPooler.Telemetry.Push;

/// <summary>
/// Graphite plaintext over one kept-open TCP connection (the original opened one per datapoint). A failed connect or
/// write closes it; the batch is retried after a back-off (1 s doubling to 60 s) on a new connection.
/// </summary>
internal sealed class GraphiteExporter(VmPoolerMetrics metrics, PushMetricsOptions options, TimeProvider timeProvider, ILogger<GraphiteExporter> logger, int capacity = PushMetricsExporter.DefaultCapacity)
    : PushMetricsExporter("graphite", metrics, options, timeProvider, logger, capacity)
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    private TcpClient? _client;

    protected override string Format(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        => PushLineFormat.Graphite(Options.Prefix, instrument, value, tags, Time.GetUtcNow());

    protected override async Task<string?> SendAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        var payload = new StringBuilder(lines.Count * 48);
        foreach (var line in lines)
        {
            payload.Append(line).Append('\n');
        }

        try
        {
            if (_client is null)
            {
                var client = new TcpClient { NoDelay = true };
                try
                {
                    using var connectTimeout = new CancellationTokenSource(ConnectTimeout, Time);
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectTimeout.Token);
                    await client.ConnectAsync(Options.Server, Options.Port, linked.Token);
                }
                catch
                {
                    client.Dispose();
                    throw;
                }

                _client = client;
            }

            using var writeTimeout = new CancellationTokenSource(WriteTimeout, Time);
            using var writeLinked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, writeTimeout.Token);
            await _client.GetStream().WriteAsync(Encoding.UTF8.GetBytes(payload.ToString()), writeLinked.Token);
            return null;
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _client?.Dispose();
            _client = null;
            return Describe(ex);
        }
    }

    public override void Dispose()
    {
        _client?.Dispose();
        base.Dispose();
    }
}
