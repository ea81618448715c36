using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Diagnostics;
using VmPooler.Core.Metrics;
using VmPooler.Core.Providers;

namespace VmPooler.Core.Operations;

/// <summary>
/// Every provider's circuit breaker and adaptive timeout in this process: wraps providers where they are created,
/// logs state changes, and exports upstream's gauges <c>circuit_breaker.&lt;provider&gt;.state</c> (0 closed, 1 half-open,
/// 2 open), <c>circuit_breaker.&lt;provider&gt;.failures</c> and <c>adaptive_timeout.&lt;provider&gt;.current</c> (seconds),
/// plus the counter <c>circuit_breaker_rejected.&lt;provider&gt;</c> of calls refused while open.
/// </summary>
public sealed partial class ProviderBreakers
{
    private readonly ConcurrentDictionary<string, (CircuitBreaker Breaker, AdaptiveTimeout Timeout)> _providers = new(StringComparer.Ordinal);
    private readonly OperationsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ProviderBreakers(VmPoolerOptions options, TimeProvider timeProvider, ILogger<ProviderBreakers> logger, VmPoolerMetrics? metrics = null)
    {
        _options = options.Operations;
        _time = timeProvider;
        _logger = logger;
        if (metrics is not null)
        {
            metrics.Meter.CreateObservableGauge("circuit_breaker", Gauges, description: "Provider circuit breakers: state (0 closed, 1 half-open, 2 open) and consecutive failures, by provider (3.9).");
            metrics.Meter.CreateObservableGauge("adaptive_timeout", Timeouts, "s", "The adaptive time limit of quick provider calls, by provider (3.9).");
            metrics.Meter.CreateObservableCounter("circuit_breaker_rejected", Rejected, description: "Provider calls refused without reaching the provider because its breaker was open.");
        }
    }

    /// <summary>The provider wrapped with its breaker (one breaker per provider name).</summary>
    public IVmProvider Wrap(IVmProvider provider)
    {
        var (breaker, timeout) = _providers.GetOrAdd(provider.Name, name =>
        {
            var created = new CircuitBreaker(name, _options, _time);
            created.StateChanged += OnStateChanged;
            return (created, new AdaptiveTimeout(_options));
        });
        return new CircuitBreakingProvider(provider, breaker, timeout, _time);
    }

    /// <summary>Every wrapped provider's state, by name.</summary>
    public IReadOnlyList<CircuitBreakerSnapshot> Snapshots()
        => [.. _providers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value.Breaker.Snapshot(p.Value.Timeout.Current ?? TimeSpan.Zero))];

    private void OnStateChanged(CircuitBreaker breaker, CircuitState from, CircuitState to)
    {
        var snapshot = breaker.Snapshot(TimeSpan.Zero);
        if (to == CircuitState.Open)
        {
            LogOpened(_logger, breaker.Provider, snapshot.ConsecutiveFailures, _options.CircuitBreakerTimeout.TotalSeconds, snapshot.LastError ?? "");
        }
        else
        {
            LogChanged(_logger, breaker.Provider, Name(from), Name(to));
        }
    }

    private static string Name(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.HalfOpen => "half-open",
        _ => "open",
    };

    private IEnumerable<Measurement<long>> Gauges()
    {
        foreach (var s in Snapshots())
        {
            yield return new Measurement<long>((long)s.State, new("provider", s.Provider), new("stat", "state"));
            yield return new Measurement<long>(s.ConsecutiveFailures, new("provider", s.Provider), new("stat", "failures"));
        }
    }

    private IEnumerable<Measurement<double>> Timeouts()
    {
        foreach (var s in Snapshots())
        {
            yield return new Measurement<double>(s.Timeout.TotalSeconds, new("provider", s.Provider), new("stat", "current"));
        }
    }

    private IEnumerable<Measurement<long>> Rejected()
    {
        foreach (var s in Snapshots())
        {
            yield return new Measurement<long>(s.Rejected, new KeyValuePair<string, object?>("provider", s.Provider));
        }
    }

    [LoggerMessage(EventIds.CircuitOpened, LogLevel.Warning, "[!] provider '{Provider}' circuit breaker opened after {Failures} consecutive failures; calls fail fast for {Seconds} s: {Error}")]
    private static partial void LogOpened(ILogger logger, string provider, int failures, double seconds, string error);

    [LoggerMessage(EventIds.CircuitChanged, LogLevel.Information, "provider '{Provider}' circuit breaker {From} → {To}")]
    private static partial void LogChanged(ILogger logger, string provider, string from, string to);
}
