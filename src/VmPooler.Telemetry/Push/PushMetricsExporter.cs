using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Metrics;

namespace VmPooler.Telemetry.Push;

/// <summary>
/// The shared half of the statsd and Graphite exporters: a <see cref="MeterListener"/> turns each measurement into a
/// line at once and puts it on a bounded channel; a background loop sends the lines, and every
/// <see cref="PushMetricsOptions.Interval"/> reads the gauges (pool sizes, queue lengths). Recording never
/// blocks and never throws: when the channel is full the line is dropped and counted (<see cref="Dropped"/>).
/// </summary>
internal abstract class PushMetricsExporter : BackgroundService
{
    public const int DefaultCapacity = 10_000;
    private const int BatchSize = 256;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

    private readonly Channel<string> _lines;
    private readonly MeterListener _listener;
    private long _dropped;
    private int _droppedLogged;

    protected PushMetricsExporter(string exporter, VmPoolerMetrics metrics, PushMetricsOptions options, TimeProvider timeProvider, ILogger logger, int capacity)
    {
        Exporter = exporter;
        Options = options;
        Time = timeProvider;
        Logger = logger;
        _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (metrics.Owns(instrument) && !VmPoolerMetrics.PrometheusOnly.Contains(instrument.Name))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Enqueue(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Enqueue(instrument, value, tags));
    }

    public string Exporter { get; }

    protected PushMetricsOptions Options { get; }

    protected TimeProvider Time { get; }

    protected ILogger Logger { get; }

    /// <summary>Lines dropped because the queue was full or a send failed for good.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Formats one measurement as a line (without a trailing newline).</summary>
    protected abstract string Format(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    /// <summary>Sends a batch; returns null, or why it could not (the exporter then backs off and retries the batch).</summary>
    protected abstract Task<string?> SendAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        TelemetryLog.ExporterStarted(Logger, Exporter, Options.Server, Options.Port, Options.Prefix);
        _listener.Start();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.WhenAll(GaugesAsync(stoppingToken), SendLoopAsync(stoppingToken));
    }

    /// <summary>Counts a line that will never be sent.</summary>
    protected void CountDropped(long lines)
    {
        var total = Interlocked.Add(ref _dropped, lines);
        if (Interlocked.Exchange(ref _droppedLogged, 1) == 0)
        {
            TelemetryLog.Dropped(Logger, Exporter, total);
        }
    }

    private void Enqueue(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        try
        {
            if (!_lines.Writer.TryWrite(Format(instrument, value, tags)))
            {
                CountDropped(1);
            }
        }
#pragma warning disable CA1031 // a metric must never fail the caller's request or pass
        catch (Exception)
#pragma warning restore CA1031
        {
            CountDropped(1);
        }
    }

    private async Task GaugesAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Options.Interval, Time);
        try
        {
            do
            {
                _listener.RecordObservableInstruments();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendLoopAsync(CancellationToken stoppingToken)
    {
        var batch = new List<string>(BatchSize);
        var backoff = TimeSpan.Zero;
        try
        {
            while (await _lines.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < BatchSize && _lines.Reader.TryRead(out var line))
                {
                    batch.Add(line);
                }

                var error = await SendAsync(batch, stoppingToken);
                if (error is null)
                {
                    batch.Clear();
                    backoff = TimeSpan.Zero;
                    Volatile.Write(ref _droppedLogged, 0);
                    continue;
                }

                // Keep the batch and wait: new lines pile up in the channel (and are dropped once it is full).
                if (backoff == TimeSpan.Zero)
                {
                    backoff = TimeSpan.FromSeconds(1);
                    TelemetryLog.SendFailed(Logger, Exporter, Options.Server, Options.Port, backoff, error);
                }
                else
                {
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }

                await Task.Delay(backoff, Time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }

    /// <summary>An exception as a one-line reason.</summary>
    protected static string Describe(Exception ex) => ex.GetType().Name + ": " + ex.Message;
}
