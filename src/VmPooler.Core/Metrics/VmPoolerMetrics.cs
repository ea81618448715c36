using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using VmPooler.Core.Inventory;

namespace VmPooler.Core.Metrics;

/// <summary>
/// Every metric vmpooler emits (spec §8), on one <see cref="Meter"/> named <see cref="MeterName"/>. Each instrument's
/// name is its metric <em>family</em> (<c>checkout</c>, <c>ready</c>, …) and its tags are recorded in a fixed order, so
/// the exporters can map a measurement onto the original's names: statsd/Graphite <c>&lt;prefix&gt;.&lt;family&gt;.&lt;tag
/// values…&gt;</c> (e.g. <c>vmpooler.checkout.success.debian-12</c>) and Prometheus <c>&lt;prometheus_prefix&gt;_&lt;family&gt;</c>
/// with the tags as labels.
/// </summary>
/// <remarks>
/// One instance per application (a DI singleton). Listeners select this instance's instruments by reference
/// (<see cref="Owns"/>), so several applications in one process (the integration tests) never see each other's
/// measurements. With no listener attached, recording costs next to nothing.
/// </remarks>
public sealed class VmPoolerMetrics : IDisposable
{
    public const string MeterName = "VmPooler";

    /// <summary>Spans around checkout, clone, ready check and destroy (exported through OTLP when tracing is enabled).</summary>
    public static readonly ActivitySource ActivitySource = new(MeterName);

    /// <summary>Clone durations (seconds): the original's <c>POOLER_CLONE_TIME_BUCKETS</c>.</summary>
    public static readonly IReadOnlyList<double> CloneBuckets = [10, 20, 30, 40, 50, 60, 120, 180, 240, 300, 600];

    /// <summary>Clone start → ready (seconds): the original's <c>POOLER_READY_TIME_BUCKETS</c>.</summary>
    public static readonly IReadOnlyList<double> ReadyBuckets = [30, 60, 120, 180, 240, 300, 500, 800, 1200, 1600];

    /// <summary>Destroy durations (seconds).</summary>
    public static readonly IReadOnlyList<double> DestroyBuckets = [1, 2.5, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];

    /// <summary>HTTP request durations (seconds): the Prometheus client default.</summary>
    public static readonly IReadOnlyList<double> HttpBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Families only the Prometheus endpoint shows (the original's Rack middleware metrics).</summary>
    public static readonly IReadOnlySet<string> PrometheusOnly = new HashSet<string>(StringComparer.Ordinal)
    {
        "http_requests_total", "http_request_duration_seconds",
    };

    private readonly ConcurrentDictionary<string, PoolGaugeValues> _pools = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _queues = new(StringComparer.Ordinal);
    private readonly Counter<long> _checkouts;
    private readonly Counter<long> _deletes;
    private readonly Counter<long> _apiRequests;
    private readonly Counter<long> _onDemandGenerated;
    private readonly Counter<long> _onDemandFailed;
    private readonly Counter<long> _configChanges;
    private readonly Counter<long> _poolResets;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _usage;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _errors39;
    private readonly ConcurrentDictionary<string, double> _lastClone = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _lastDestroy = new(StringComparer.Ordinal);
    private readonly Histogram<double> _clone;
    private readonly Histogram<double> _timeToReady;
    private readonly Histogram<double> _destroy;
    private readonly Counter<long> _httpRequests;
    private readonly Histogram<double> _httpDuration;

    public VmPoolerMetrics()
    {
        Meter = new Meter(new MeterOptions(MeterName) { Version = "1.0", Scope = this });
        _checkouts = Meter.CreateCounter<long>("checkout", description: "VM checkouts by result (success, empty, invalid) and pool (spec §8.2).");
        _deletes = Meter.CreateCounter<long>("delete", description: "VM returns (DELETE /vm) by result: success or failed.");
        _apiRequests = Meter.CreateCounter<long>("http_requests_vm_total", description: "Requests per VM/on-demand route: method, subpath, operation (spec §8.2).");
        _onDemandGenerated = Meter.CreateCounter<long>("ondemandrequest_generate", description: "On-demand requests accepted (success) or refused as duplicates.");
        _onDemandFailed = Meter.CreateCounter<long>("ondemandrequest_fail", description: "On-demand requests refused: toomanyrequests or invalid, by pool.");
        _configChanges = Meter.CreateCounter<long>("config", description: "Pool configuration changes refused (invalid), by pool.");
        _poolResets = Meter.CreateCounter<long>("poolreset", description: "Pool resets refused (invalid), by pool.");
        _tokens = Meter.CreateCounter<long>("tokens", description: "Token events: created, deleted, auth_failed.");
        _errors = Meter.CreateCounter<long>("errors", description: "Manager errors by type (markedasfailed, permanently_failed, clonefailed, destroyfailed) and pool.");
        _deadLettered = Meter.CreateCounter<long>("vmpooler_dlq", description: "VMs put in the dead-letter queue, by queue (clone, pending, ready, purge): vmpooler_dlq.<queue>.count as in 3.8.");
        _errors39 = Meter.CreateCounter<long>("vmpooler_errors", description: "Manager errors under the 3.8/3.9 name (vmpooler_errors.<type>.<pool>); the same counts as errors.");
        Meter.CreateObservableGauge("vmpooler_clone", () => LastDuration(_lastClone), "s", "The last clone's duration in seconds, by pool (3.9's vmpooler_clone.<pool> gauge).");
        Meter.CreateObservableGauge("vmpooler_destroy", () => LastDuration(_lastDestroy), "s", "The last destroy's duration in seconds, by pool (3.9's vmpooler_destroy.<pool> gauge).");
        _usage = Meter.CreateCounter<long>("user", description: "usage_stats: VMs allocated or destroyed per user and pool.");
        _clone = Meter.CreateHistogram("clone", "s", "Clone duration in seconds, by pool.", advice: Buckets(CloneBuckets));
        _timeToReady = Meter.CreateHistogram("time_to_ready_state", "s", "Clone start to ready, in seconds, by pool.", advice: Buckets(ReadyBuckets));
        _destroy = Meter.CreateHistogram("destroy", "s", "Destroy duration in seconds, by pool.", advice: Buckets(DestroyBuckets));
        _httpRequests = Meter.CreateCounter<long>("http_requests_total", description: "HTTP requests by status code, method and (collapsed) path.");
        _httpDuration = Meter.CreateHistogram("http_request_duration_seconds", "s", "HTTP request duration in seconds, by method and (collapsed) path.", advice: Buckets(HttpBuckets));

        Meter.CreateObservableGauge("ready", () => PoolGauge(v => v.Ready), description: "VMs ready to be checked out, by pool.");
        Meter.CreateObservableGauge("pending", () => PoolGauge(v => v.Pending), description: "VMs being cloned or booting, by pool.");
        Meter.CreateObservableGauge("running", () => PoolGauge(v => v.Running), description: "VMs checked out, by pool.");
        Meter.CreateObservableGauge("completed", () => PoolGauge(v => v.Completed), description: "VMs returned or expired and waiting to be destroyed, by pool.");
        Meter.CreateObservableGauge("size", () => PoolGauge(v => v.Size), description: "Configured pool size (with run-time overrides), by pool.");
        Meter.CreateObservableGauge("queue", QueueGauge, description: "Queue lengths: tasks (disk/snapshot), ondemand (pending on-demand requests).");
    }

    public Meter Meter { get; }

    /// <summary>True when <paramref name="instrument"/> belongs to this instance (what listeners enable).</summary>
    public bool Owns(Instrument instrument) => ReferenceEquals(instrument.Meter, Meter);

    /// <summary>The pools whose gauges are known.</summary>
    public IReadOnlyCollection<string> GaugedPools => [.. _pools.Keys];

    /// <summary>A checkout outcome: <c>success</c> per pool handed out, <c>empty</c> per requested name, <c>invalid</c>.</summary>
    public void Checkout(string result, string pool) => _checkouts.Add(1, new("result", result), new("pool", pool));

    /// <summary>A return: <paramref name="succeeded"/> → <c>delete.success</c>, otherwise <c>delete.failed</c>.</summary>
    public void Delete(bool succeeded) => _deletes.Add(1, new KeyValuePair<string, object?>("result", succeeded ? "success" : "failed"));

    /// <summary>One request to a VM or on-demand route (<c>post.vm.checkout</c> …).</summary>
    public void ApiRequest(string method, string subpath, string operation)
        => _apiRequests.Add(1, new("method", method), new("subpath", subpath), new("operation", operation));

    /// <summary>An on-demand request accepted (<c>success</c>) or a duplicate id (<c>duplicaterequests</c>).</summary>
    public void OnDemandGenerated(string result) => _onDemandGenerated.Add(1, new KeyValuePair<string, object?>("result", result));

    /// <summary>An on-demand request refused: <c>toomanyrequests</c> or <c>invalid</c>, for a pool or <c>unknown</c>.</summary>
    public void OnDemandFailed(string reason, string pool) => _onDemandFailed.Add(1, new("reason", reason), new("pool", pool));

    /// <summary>A refused pool configuration change (<c>config.invalid.&lt;pool&gt;</c>).</summary>
    public void ConfigInvalid(string pool) => _configChanges.Add(1, new("result", "invalid"), new("pool", pool));

    /// <summary>A refused pool reset (<c>poolreset.invalid.&lt;pool&gt;</c>).</summary>
    public void PoolResetInvalid(string pool) => _poolResets.Add(1, new("result", "invalid"), new("pool", pool));

    /// <summary>A token event: <c>created</c>, <c>deleted</c> or <c>auth_failed</c>.</summary>
    public void Token(string tokenEvent) => _tokens.Add(1, new KeyValuePair<string, object?>("event", tokenEvent));

    /// <summary>A manager error (<c>errors.markedasfailed.&lt;pool&gt;</c> …).</summary>
    public void Error(string type, string pool)
    {
        _errors.Add(1, new("type", type), new("pool", pool));
        _errors39.Add(1, new("type", type), new("pool", pool));
    }

    /// <summary>A VM put in the dead-letter queue: <c>vmpooler_dlq.&lt;queue&gt;.count</c> (upstream 3.8's name; no pool, as there).</summary>
    public void DeadLettered(string queue) => _deadLettered.Add(1, new("queue", queue), new("stat", "count"));

    /// <summary><c>usage_stats</c>: <c>user.&lt;user&gt;.&lt;allocate|destroy&gt;.&lt;pool&gt;</c>.</summary>
    public void Usage(string? user, string operation, string pool)
        => _usage.Add(1, new("user", string.IsNullOrEmpty(user) ? "unauthenticated" : user), new("operation", operation), new("pool", pool));

    public void CloneDuration(string pool, double seconds)
    {
        _clone.Record(seconds, new KeyValuePair<string, object?>("pool", pool));
        _lastClone[pool] = seconds;
    }

    public void TimeToReady(string pool, double seconds) => _timeToReady.Record(seconds, new KeyValuePair<string, object?>("pool", pool));

    public void DestroyDuration(string pool, double seconds)
    {
        _destroy.Record(seconds, new KeyValuePair<string, object?>("pool", pool));
        _lastDestroy[pool] = seconds;
    }

    /// <summary>One HTTP request (Prometheus middleware metrics, spec §8.2 last row).</summary>
    public void HttpRequest(int statusCode, string method, string path, double seconds)
    {
        _httpRequests.Add(1, new("code", statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("method", method), new("path", path));
        _httpDuration.Record(seconds, new("method", method), new("path", path));
    }

    /// <summary>Sets one pool's gauges (from a manager pass, or from the inventory refresher).</summary>
    public void SetPoolCounts(string pool, int size, PoolCounts counts)
        => _pools[pool] = new PoolGaugeValues(size, counts.Ready, counts.Pending, counts.Running, counts.Completed);

    /// <summary>Sets a queue length gauge: <c>tasks</c> or <c>ondemand</c>.</summary>
    public void SetQueueLength(string queue, long length) => _queues[queue] = length;

    public void Dispose() => Meter.Dispose();

    private IEnumerable<Measurement<long>> PoolGauge(Func<PoolGaugeValues, long> select)
    {
        foreach (var (pool, values) in _pools)
        {
            yield return new Measurement<long>(select(values), new KeyValuePair<string, object?>("pool", pool));
        }
    }

    private IEnumerable<Measurement<long>> QueueGauge()
    {
        foreach (var (queue, length) in _queues)
        {
            yield return new Measurement<long>(length, new KeyValuePair<string, object?>("queue", queue));
        }
    }

    private static IEnumerable<Measurement<double>> LastDuration(ConcurrentDictionary<string, double> last)
    {
        foreach (var (pool, seconds) in last)
        {
            yield return new Measurement<double>(seconds, new KeyValuePair<string, object?>("pool", pool));
        }
    }

    private static InstrumentAdvice<double> Buckets(IReadOnlyList<double> buckets) => new() { HistogramBucketBoundaries = buckets };

    private readonly record struct PoolGaugeValues(long Size, long Ready, long Pending, long Running, long Completed);
}
