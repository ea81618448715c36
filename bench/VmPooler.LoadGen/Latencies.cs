using System.Diagnostics;

namespace VmPooler.LoadGen;

/// <summary>Latency samples (Stopwatch ticks) of one worker; merged and sorted for percentiles once a run ends.</summary>
internal sealed class Latencies
{
    private long[] _samples = new long[4096];

    public int Count { get; private set; }

    public void Add(long ticks)
    {
        if (Count == _samples.Length)
        {
            Array.Resize(ref _samples, _samples.Length * 2);
        }

        _samples[Count++] = ticks;
    }

    /// <summary>All samples of several workers, sorted, in milliseconds.</summary>
    public static double[] Merge(IEnumerable<Latencies> parts)
    {
        var all = parts.SelectMany(p => p._samples.Take(p.Count)).Select(t => t * 1000.0 / Stopwatch.Frequency).ToArray();
        Array.Sort(all);
        return all;
    }

    /// <summary>The <paramref name="percentile"/> (0–100) of sorted samples, nearest rank; NaN when empty.</summary>
    public static double Percentile(double[] sorted, double percentile)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
