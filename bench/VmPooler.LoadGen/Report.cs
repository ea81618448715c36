using System.Globalization;
using System.Text;

namespace VmPooler.LoadGen;

/// <summary>The markdown the run prints (and docs/benchmarks.md holds).</summary>
internal static class Report
{
    public static string Render(
        Settings settings, IReadOnlyList<HttpPoint> http, IReadOnlyDictionary<int, (double Rps, double P50, double P99)> ceiling, ManagerResult? manager)
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.Append(c, $"Run: {(settings.Quick ? "quick" : "full")}, {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, load average at start of each point in the last column.\n\n");
        md.Append("| Run | Clients | Pairs/s | Requests/s | Checkout p50 / p99 / p99.9 ms | Return p50 / p99 / p99.9 ms | Server CPU-ms per checkout | % of Redis ceiling | Empty / errors | Load |\n");
        md.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var clients in ceiling.Keys.Order())
        {
            var (rps, p50, p99) = ceiling[clients];
            md.Append(c, $"| Redis ceiling (redis-benchmark EVALSHA checkout+return) | {clients} | {rps:0} | {rps:0} | {p50:0.00} / {p99:0.00} / – (per call) | – | – | 100 % | – | – |\n");
        }

        foreach (var p in http)
        {
            var share = p.Inventory.StartsWith("redis", StringComparison.Ordinal) && ceiling.TryGetValue(p.Clients, out var top) ? $"{p.PairsPerSecond / top.Rps * 100:0} %" : "–";
            md.Append(c, $"| HTTP, {Describe(p.Inventory)} | {p.Clients} | {p.PairsPerSecond:0} | {p.RequestsPerSecond:0} | ");
            md.Append(c, $"{Latencies.Percentile(p.Checkout, 50):0.00} / {Latencies.Percentile(p.Checkout, 99):0.00} / {Latencies.Percentile(p.Checkout, 99.9):0.00} | ");
            md.Append(c, $"{Latencies.Percentile(p.Return, 50):0.00} / {Latencies.Percentile(p.Return, 99):0.00} / {Latencies.Percentile(p.Return, 99.9):0.00} | ");
            md.Append(c, $"{p.CpuMsPerCheckout:0.000} (client {p.ClientCpuMs / Math.Max(1, p.Pairs):0.000}) | {share} | {p.Empty} / {p.Errors} | {p.Load} |\n");
        }

        if (manager is { } m)
        {
            md.Append(c, $"| Manager {m.Pools}×{m.Size} ({m.Pools * m.Size} VMs): fill from empty {m.FillSeconds:0.0} s; idle CPU {m.CpuPercent:0.00} % of one core and RSS {m.RssAverageMb:0} MB (max {m.RssMaxMb:0}) over {m.WindowSeconds:0} s; ");
            md.Append(c, $"checkout → replacement clone started p50 {Latencies.Percentile(m.ReplacementMs, 50):0.0} ms, p99 {Latencies.Percentile(m.ReplacementMs, 99):0.0} ms, max {Latencies.Percentile(m.ReplacementMs, 100):0.0} ms ({m.ReplacementMs.Length} checkouts, {m.ReplacementsMissed} missed) | – | – | – | – | – | – | – | – | {m.Load} |\n");
        }

        return md.ToString();
    }

    private static string Describe(string inventory) => inventory switch
    {
        "redis-api" => "Redis inventory, API only (ready sets pre-filled, no manager)",
        "redis" => "Redis inventory, API + manager",
        _ => inventory + " inventory, API + manager",
    };
}
