using VmPooler.Core.Configuration;

namespace VmPooler.Core.Operations;

/// <summary>
/// A provider's adaptive time limit for quick calls (spec §4.10): clamp(p95 × 1.5, min, max) over the last
/// <see cref="Window"/> successful call durations; <c>connection_pool_timeout_initial</c> until
/// <see cref="MinSamples"/> are known; each consecutive failure takes 20 % off (never below the min).
/// </summary>
public sealed class AdaptiveTimeout(OperationsOptions options)
{
    public const int Window = 100;
    public const int MinSamples = 10;

    private readonly Lock _gate = new();
    private readonly double[] _samples = new double[Window];
    private int _count;
    private int _next;
    private int _failures;

    /// <summary>The limit for the next call, or null when adaptive timeouts are off.</summary>
    public TimeSpan? Current
    {
        get
        {
            if (!options.AdaptiveTimeoutEnabled)
            {
                return null;
            }

            lock (_gate)
            {
                var basis = _count < MinSamples ? options.AdaptiveTimeoutInitial : TimeSpan.FromSeconds(P95() * 1.5);
                var reduced = basis * Math.Pow(0.8, Math.Min(_failures, 50));
                return Clamp(reduced);
            }
        }
    }

    public void Succeeded(TimeSpan duration)
    {
        lock (_gate)
        {
            _samples[_next] = duration.TotalSeconds;
            _next = (_next + 1) % Window;
            _count = Math.Min(_count + 1, Window);
            _failures = 0;
        }
    }

    public void Failed()
    {
        lock (_gate)
        {
            _failures++;
        }
    }

    private TimeSpan Clamp(TimeSpan value)
        => value < options.AdaptiveTimeoutMin ? options.AdaptiveTimeoutMin : value > options.AdaptiveTimeoutMax ? options.AdaptiveTimeoutMax : value;

    private double P95()
    {
        var sorted = _samples.AsSpan(0, _count).ToArray();
        Array.Sort(sorted);
        return sorted[Math.Min(_count - 1, (int)Math.Ceiling(0.95 * _count) - 1)];
    }
}
