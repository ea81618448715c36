using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Providers.Qemu;
using VmPooler.QemuBench;

// Clone → SSH-ready and idle cost of qemu clones, copy vs shared restores side by side, through the real provider.
//   dotnet run -c Release --project bench/VmPooler.QemuBench -- --guest DIR [--modes copy,shared] [--serial 10]
//       [--burst 40] [--idle 20] [--memory 192] [--tb-size 16] [--append 'KERNEL ARGS'] [--capacity 0] [--floor-mib 4096] [--out FILE] [--verbose]
//       [--states DIR]  (saved states kept there across runs; default: inside the run directory, removed after)
// DIR is a guest from guest/build-guest.sh; --modes none skips the timing runs. --capacity N grows a shared pool towards N VMs (stopping while the machine
// still has --floor-mib available), checks that every VM answers SSH and measures them idle; every VM is destroyed after.
var options = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a[2..], p => p.i + 1 < args.Length ? args[p.i + 1] : "", StringComparer.Ordinal);
string Get(string key, string fallback) => options.TryGetValue(key, out var v) ? v : fallback;
int Number(string key, int fallback) => int.Parse(Get(key, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

var guest = Get("guest", "/var/tmp/vmpooler-guest");
var root = Path.Combine("/tmp", "vmpqb-" + Guid.NewGuid().ToString("N")[..6]);
var log = Console.Out;
var report = new StringBuilder();
// --verbose: the provider's debug log (each clone's time and its restore phases) on stderr.
using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(options.ContainsKey("verbose") ? LogLevel.Debug : LogLevel.Warning));
var provider = new QemuProvider(
    "qemu",
    new QemuProviderOptions { RunDir = root, SavedStateDir = Get("states", Path.Combine(root, "states")), MaxConcurrentBoots = 2 },
    TimeProvider.System,
    loggers.CreateLogger<QemuProvider>());
PoolOptions Pool(string mode) => new()
{
    Name = mode,
    Template = guest,
    Provider = "qemu",
    Settings = new Dictionary<string, object?>
    {
        ["memory"] = Get("memory", "192"),
        ["saved_state"] = mode,
        ["tcg_tb_size"] = Get("tb-size", "16"),
        ["kernel_append"] = Get("append", ""),
    },
};

await log.WriteLineAsync($"qemu bench: guest {guest}, run dir {root}, load {VmStats.LoadAverage()}, {VmStats.AvailableMiB()} MiB available, {Environment.ProcessorCount} cores");
report.AppendLine(CultureInfo.InvariantCulture, $"| mode | serial p50 / p95 (ms) | burst of {Number("burst", 40)}: p50 / p95 (ms), wall (s) | idle VMs answering SSH | Rss / Pss / Private per VM (MiB) | CPU per idle VM (% of a core) | threads | load before |");
report.AppendLine("|---|---|---|---|---|---|---|---|");
try
{
    foreach (var mode in Get("modes", "copy,shared").Split(',', StringSplitOptions.RemoveEmptyEntries).Where(m => m != "none"))
    {
        var bench = new CloneBench(provider, Pool(mode), log);
        await bench.CloneOneAsync(); // builds the saved state on first use; not counted
        await bench.DestroyAllAsync();
        var load = VmStats.LoadAverage();
        var serial = await bench.SerialAsync(Number("serial", 10));
        var (burst, wall) = await bench.BurstAsync(Number("burst", 40));
        await Task.Delay(TimeSpan.FromSeconds(10), TimeProvider.System);
        var idle = await bench.IdleCostAsync(TimeSpan.FromSeconds(Number("idle", 20)));
        await bench.DestroyAllAsync();
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"| {mode} | {P(serial, 50):0} / {P(serial, 95):0} | {P(burst, 50):0} / {P(burst, 95):0}, {wall:0.0} | {idle.AnsweringSsh}/{idle.Vms} | {idle.RssMiB:0} / {idle.PssMiB:0} / {idle.PrivateMiB:0} | {idle.CpuPercent:0.00} | {idle.Threads:0} | {load} |");
        report.AppendLine(line);
        await log.WriteLineAsync(line);
    }

    if (Number("capacity", 0) is > 0 and var target)
    {
        await CapacityAsync(target);
    }
}
finally
{
    foreach (var dir in Directory.Exists(root) ? Directory.EnumerateFiles(root, "qemu.pid", SearchOption.AllDirectories).ToList() : [])
    {
        // Whatever is left after a failure: killed by its PID file (the provider destroyed everything else).
        if (int.TryParse(File.ReadAllText(dir).Trim(), CultureInfo.InvariantCulture, out var pid))
        {
            try { System.Diagnostics.Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
    }
}

await log.WriteLineAsync(report.ToString());
if (options.TryGetValue("out", out var outFile))
{
    await File.WriteAllTextAsync(outFile, report.ToString());
}

try { Directory.Delete(root, recursive: true); } catch (IOException) { }
return 0;

async Task CapacityAsync(int target)
{
    var bench = new CloneBench(provider, Pool("shared"), log);
    var before = VmStats.AvailableMiB();
    var load = VmStats.LoadAverage();
    try
    {
        await bench.GrowAsync(target, 20, long.Parse(Get("floor-mib", "4096"), CultureInfo.InvariantCulture));
        await Task.Delay(TimeSpan.FromSeconds(10), TimeProvider.System);
        var idle = await bench.IdleCostAsync(TimeSpan.FromSeconds(10));
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"capacity (shared): {idle.Vms} VMs, {idle.AnsweringSsh} answering SSH; Pss total {idle.TotalPssMiB:0} MiB ({idle.PssMiB:0} per VM, Private {idle.PrivateMiB:0}); MemAvailable {before} → {VmStats.AvailableMiB()} MiB; idle CPU {idle.TotalCpuPercent:0} % of one core together ({idle.CpuPercent:0.00} % each); load {load} before, {VmStats.LoadAverage()} after");
        report.AppendLine().AppendLine(line);
        await log.WriteLineAsync(line);
    }
    finally
    {
        await bench.DestroyAllAsync();
    }
}

static double P(List<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
