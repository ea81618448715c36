using System.Diagnostics.Metrics;
using System.Text;
using VmPooler.Core.Metrics;

namespace VmPooler.Telemetry.Prometheus;

/// <summary>
/// Aggregates this application's <see cref="VmPoolerMetrics"/> for the Prometheus endpoint: a <see cref="MeterListener"/>
/// sums counters and fills histogram buckets as measurements arrive; observable gauges are read at scrape time.
/// </summary>
internal sealed class PrometheusCollector : IDisposable
{
    private readonly MeterListener _listener;
    private readonly Lock _gate = new();
    private readonly Lock _scrape = new();
    private readonly Dictionary<Instrument, Family> _families = [];

    public PrometheusCollector(VmPoolerMetrics metrics)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (!metrics.Owns(instrument))
                {
                    return;
                }

                var family = new Family(instrument);
                lock (_gate)
                {
                    _families[instrument] = family;
                }

                listener.EnableMeasurementEvents(instrument, family);
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Family)state!).Record(value, tags, _gate));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Family)state!).Record(value, tags, _gate));
        _listener.Start();
    }

    /// <summary>The current families (gauges read now), sorted by name.</summary>
    public IReadOnlyList<FamilySnapshot> Collect()
    {
        lock (_scrape)
        {
            lock (_gate)
            {
                foreach (var family in _families.Values.Where(f => f.Type == PrometheusType.Gauge))
                {
                    family.Series.Clear();
                }
            }

            _listener.RecordObservableInstruments();
            lock (_gate)
            {
                return [.. _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => f.Snapshot())];
            }
        }
    }

    /// <summary>The whole exposition text.</summary>
    public string Render(string metricPrefix, string instance)
    {
        var output = new StringBuilder(4096);
        PrometheusTextWriter.Write(output, metricPrefix, instance, Collect());
        return output.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private sealed class Family
    {
        public Family(Instrument instrument)
        {
            Name = instrument.Name;
            Help = instrument.Description;
            (Type, Bounds) = instrument switch
            {
                Histogram<double> histogram => (PrometheusType.Histogram, histogram.Advice?.HistogramBucketBoundaries ?? VmPoolerMetrics.HttpBuckets),
                ObservableGauge<long> or ObservableGauge<double> => (PrometheusType.Gauge, (IReadOnlyList<double>?)null),
                _ => (PrometheusType.Counter, null),
            };
        }

        public string Name { get; }

        public string? Help { get; }

        public PrometheusType Type { get; }

        public IReadOnlyList<double>? Bounds { get; }

        public Dictionary<string, Series> Series { get; } = new(StringComparer.Ordinal);

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, Lock gate)
        {
            var key = new StringBuilder();
            foreach (var tag in tags)
            {
                key.Append(tag.Key).Append('\u0001').Append(MetricNames.TagValue(tag.Value)).Append('\u0002');
            }

            var text = key.ToString();
            lock (gate)
            {
                if (!Series.TryGetValue(text, out var series))
                {
                    var labels = new KeyValuePair<string, string>[tags.Length];
                    for (var i = 0; i < tags.Length; i++)
                    {
                        labels[i] = new(tags[i].Key, MetricNames.TagValue(tags[i].Value));
                    }

                    series = new Series(labels, Bounds is null ? null : new long[Bounds.Count]);
                    Series[text] = series;
                }

                switch (Type)
                {
                    case PrometheusType.Gauge:
                        series.Value = value;
                        break;
                    case PrometheusType.Counter:
                        series.Value += value;
                        break;
                    default:
                        var bucket = 0;
                        while (bucket < Bounds!.Count && value > Bounds[bucket])
                        {
                            bucket++;
                        }

                        if (bucket < Bounds.Count)
                        {
                            series.Buckets![bucket]++;
                        }

                        series.Sum += value;
                        series.Count++;
                        break;
                }
            }
        }

        public FamilySnapshot Snapshot() => new(
            Name,
            Help,
            Type,
            [.. Series.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new SeriesSnapshot(s.Value.Labels, s.Value.Value, s.Value.Buckets?.ToArray(), s.Value.Sum, s.Value.Count))],
            Bounds);
    }

    private sealed class Series(KeyValuePair<string, string>[] labels, long[]? buckets)
    {
        public KeyValuePair<string, string>[] Labels { get; } = labels;

        public long[]? Buckets { get; } = buckets;

        public double Value { get; set; }

        public double Sum { get; set; }

        public long Count { get; set; }
    }
}
