using System.Globalization;
using System.Text;

namespace VmPooler.LoadGen;

/// <summary>The markdown the run prints (and docs/benchmarks.md holds).</summary>
internal static class Report
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Render(
        Settings settings,
        IReadOnlyList<HttpPoint> http,
        IReadOnlyDictionary<int, (double Rps, double P50, double P99)> ceiling,
        ManagerResult? refill,
        ManagerResult? manager)
    {
        var md = new StringBuilder();
        md.Append(C, $"Run: {(settings.Quick ? "quick" : "full")}, {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, load average at start of each point in the last column.\n\n");
        if (http.Count > 0 || ceiling.Count > 0)
        {
            md.Append(Http(settings, http, ceiling));
        }

        foreach (var m in new[] { refill, manager }.OfType<ManagerResult>())
        {
            md.Append('\n').Append(Manager(m));
        }

        return md.ToString();
    }

    private static string Http(Settings settings, IReadOnlyList<HttpPoint> http, IReadOnlyDictionary<int, (double Rps, double P50, double P99)> ceiling)
    {
        var md = new StringBuilder();
        md.Append("| Run | Clients | Pairs/s | Requests/s | Checkout p50 / p99 / p99.9 ms | Return p50 / p99 / p99.9 ms | Server CPU-ms per checkout | % of Redis ceiling | Empty / errors | Redis commands per pair (idle/s) | Load |\n");
        md.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var clients in ceiling.Keys.Order())
        {
            var (rps, p50, p99) = ceiling[clients];
            md.Append(C, $"| Redis ceiling (redis-benchmark EVALSHA checkout+return) | {clients} | {rps:0} | {rps:0} | {p50:0.00} / {p99:0.00} / – (per call) | – | – | 100 % | – | – | – |\n");
        }

        foreach (var p in http)
        {
            var share = p.Inventory.StartsWith("redis", StringComparison.Ordinal) && ceiling.TryGetValue(p.Clients, out var top) ? $"{p.PairsPerSecond / top.Rps * 100:0} %" : "–";
            var commands = p.RedisCalls is { } calls
                ? string.Create(C, $"{calls.Values.Sum() / (double)Math.Max(1, p.Pairs):0.#}") + (p.RedisIdlePerSecond is { } idle ? string.Create(C, $" ({idle:0}/s)") : "")
                : "–";
            var client = p.Client == "wrk" ? " (wrk client)" : "";
            md.Append(C, $"| HTTP, {Describe(p.Inventory)}, {settings.HttpPools}×{p.PoolSize}{client} | {p.Clients} | {p.PairsPerSecond:0} | {p.RequestsPerSecond:0} | ");
            if (p.WrkLatency is { } wrkLatency)
            {
                // wrk reports one distribution for all requests: shown in the checkout column, the return column empty.
                md.Append(C, $"all requests: {wrkLatency} | – | ");
            }
            else
            {
                md.Append(C, $"{Latencies.Percentile(p.Checkout, 50):0.00} / {Latencies.Percentile(p.Checkout, 99):0.00} / {Latencies.Percentile(p.Checkout, 99.9):0.00} | ");
                md.Append(C, $"{Latencies.Percentile(p.Return, 50):0.00} / {Latencies.Percentile(p.Return, 99):0.00} / {Latencies.Percentile(p.Return, 99.9):0.00} | ");
            }

            md.Append(C, $"{p.CpuMsPerCheckout:0.000} (client {p.ClientCpuMs / Math.Max(1, p.Pairs):0.000}) | {share} | {p.Empty} ({p.EmptyPercent:0.0} %) / {p.Errors} | {commands} | {p.Load} |\n");
        }

        return md.ToString();
    }

    private static string Manager(ManagerResult m)
    {
        var md = new StringBuilder();
        var r = m.Run;
        md.Append(C, $"Manager run `{r.Name}`: {r.Pools} pools × {r.Size} VMs ({r.Pools * r.Size}), {r.Managers} manager process(es){(m.DistinctIds ? " with distinct --manager-id" : "")}, task_limit {r.TaskLimit}, load {m.Load}\n\n");
        md.Append("| Figure | Value |\n|---|---:|\n");
        md.Append(C, $"| Fill from empty | {m.FillSeconds:0.0} s |\n");
        if (m.WindowSeconds > 0)
        {
            md.Append(C, $"| Idle CPU, all managers (max one manager) | {m.CpuPercent:0.00} % ({m.CpuPercentMaxManager:0.00} %) of one core over {m.WindowSeconds:0} s |\n");
            md.Append(C, $"| RSS, all managers (max one manager) | {m.RssAverageMb:0} MB ({m.RssMaxMb:0} MB) |\n");
        }

        md.Append(Row("Checkout → replacement", m.Replacements));
        if (m.AfterKill is { } k)
        {
            md.Append(Row("After SIGKILL of the busiest manager: checkout → replacement", k));
        }

        return md.ToString();
    }

    private static string Row(string what, Replacements x)
        => string.Create(C, $"| {what} clone started, p50 / p99 | {Latencies.Percentile(x.CloneStarted, 50):0.0} / {Latencies.Percentile(x.CloneStarted, 99):0.0} ms |\n")
            + string.Create(C, $"| {what} **ready**, p50 / p99 / max ({x.Count} checkouts, {x.Missed} missed) | {Latencies.Percentile(x.Ready, 50):0.0} / {Latencies.Percentile(x.Ready, 99):0.0} / {Latencies.Percentile(x.Ready, 100):0.0} ms |\n");

    private static string Describe(string inventory) => inventory switch
    {
        "redis-api" => "Redis inventory, API only (ready sets pre-filled, no manager)",
        "redis" => "Redis inventory, API + manager",
        _ => inventory + " inventory, API + manager",
    };
}
