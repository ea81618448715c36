using System.Globalization;
using VmPooler.Core.Configuration;

namespace VmPooler.Core.Operations;

/// <summary>
/// One provider's circuit breaker (spec §4.10, upstream 3.9's semantics for every provider): closed until
/// <c>circuit_breaker_failure_threshold</c> consecutive failures, then open for <c>circuit_breaker_timeout</c> (calls fail
/// fast), then half-open: one probe call at a time, and <c>circuit_breaker_half_open_attempts</c> successes in a row
/// close it while one failure opens it again. Thread-safe; every decision reads the injected clock.
/// </summary>
public sealed class CircuitBreaker(string provider, OperationsOptions options, TimeProvider timeProvider)
{
    private readonly Lock _gate = new();
    private CircuitState _state = CircuitState.Closed;
    private int _failures;
    private int _halfOpenSuccesses;
    private bool _probeInFlight;
    private DateTimeOffset? _openedAt;
    private string? _lastError;
    private long _rejected;

    public string Provider => provider;

    /// <summary>Raised (outside the lock) when the state changes: old, new.</summary>
    public event Action<CircuitBreaker, CircuitState, CircuitState>? StateChanged;

    /// <summary>Asks to make a call; throws <see cref="ProviderCircuitOpenException"/> when the breaker refuses it.</summary>
    public void Enter()
    {
        if (!options.CircuitBreakerEnabled)
        {
            return;
        }

        (CircuitState, CircuitState)? change = null;
        lock (_gate)
        {
            var now = timeProvider.GetUtcNow();
            if (_state == CircuitState.Open && now >= _openedAt + options.CircuitBreakerTimeout)
            {
                change = (_state, CircuitState.HalfOpen);
                _state = CircuitState.HalfOpen;
                _halfOpenSuccesses = 0;
                _probeInFlight = false;
            }

            if (_state == CircuitState.Open || (_state == CircuitState.HalfOpen && _probeInFlight))
            {
                _rejected++;
                throw new ProviderCircuitOpenException(RefusalMessage(now));
            }

            if (_state == CircuitState.HalfOpen)
            {
                _probeInFlight = true;
            }
        }

        Raise(change);
    }

    /// <summary>The call entered with <see cref="Enter"/> succeeded.</summary>
    public void Success()
    {
        (CircuitState, CircuitState)? change = null;
        lock (_gate)
        {
            _failures = 0;
            if (_state == CircuitState.HalfOpen)
            {
                _probeInFlight = false;
                if (++_halfOpenSuccesses >= options.CircuitBreakerHalfOpenAttempts)
                {
                    change = (_state, CircuitState.Closed);
                    _state = CircuitState.Closed;
                    _openedAt = null;
                }
            }
        }

        Raise(change);
    }

    /// <summary>The call entered with <see cref="Enter"/> failed with <paramref name="error"/>.</summary>
    public void Failure(string error)
    {
        (CircuitState, CircuitState)? change = null;
        lock (_gate)
        {
            _failures++;
            _lastError = error;
            var trips = _state == CircuitState.HalfOpen || (_state == CircuitState.Closed && _failures >= options.CircuitBreakerFailureThreshold);
            _probeInFlight = false;
            if (options.CircuitBreakerEnabled && trips)
            {
                change = (_state, CircuitState.Open);
                _state = CircuitState.Open;
                _openedAt = timeProvider.GetUtcNow();
            }
        }

        Raise(change);
    }

    /// <summary>The call entered was abandoned by its caller: neither success nor failure, but a half-open probe slot is freed.</summary>
    public void Abandoned()
    {
        lock (_gate)
        {
            _probeInFlight = false;
        }
    }

    public CircuitBreakerSnapshot Snapshot(TimeSpan timeout)
    {
        lock (_gate)
        {
            var retryAt = _state == CircuitState.Open ? _openedAt + options.CircuitBreakerTimeout : null;
            return new CircuitBreakerSnapshot(provider, _state, _failures, _openedAt, retryAt, _lastError, _rejected, timeout);
        }
    }

    private string RefusalMessage(DateTimeOffset now)
    {
        var wait = _state == CircuitState.Open ? Math.Max(0, (_openedAt!.Value + options.CircuitBreakerTimeout - now).TotalSeconds) : 0;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"provider '{provider}' is unavailable: circuit breaker {(_state == CircuitState.Open ? "open" : "half-open, probing")} after {_failures} consecutive failures (next probe in {wait:0.#} s); last error: {_lastError}");
    }

    private void Raise((CircuitState Old, CircuitState New)? change)
    {
        if (change is { } c)
        {
            StateChanged?.Invoke(this, c.Old, c.New);
        }
    }
}
