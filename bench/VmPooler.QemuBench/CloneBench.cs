using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Qemu;

namespace VmPooler.QemuBench;

/// <summary>Clones of one pool through the real <see cref="QemuProvider"/>: timed one at a time and in a burst, then measured idle.</summary>
internal sealed class CloneBench(QemuProvider provider, PoolOptions pool, TextWriter log)
{
    private readonly ConcurrentDictionary<string, ProviderVm> _vms = new(StringComparer.Ordinal);
    private int _next;

    public IReadOnlyCollection<ProviderVm> Vms => [.. _vms.Values];

    /// <summary>Clone → SSH-ready of one VM (create returns once its SSH banner answers), in ms.</summary>
    public async Task<double> CloneOneAsync()
    {
        var name = $"{pool.Name}-{Interlocked.Increment(ref _next).ToString(CultureInfo.InvariantCulture)}";
        var watch = Stopwatch.StartNew();
        var vm = await provider.CreateVmAsync(pool, name, CancellationToken.None);
        var ms = watch.Elapsed.TotalMilliseconds;
        _vms[name] = vm;
        return ms;
    }

    public async Task<List<double>> SerialAsync(int count)
    {
        var times = new List<double>();
        for (var i = 0; i < count; i++)
        {
            times.Add(await CloneOneAsync());
        }

        return times;
    }

    /// <summary><paramref name="count"/> clones asked for at once (the provider bounds how many restore together); per-clone times and the wall time.</summary>
    public async Task<(List<double> Times, double WallSeconds)> BurstAsync(int count)
    {
        var watch = Stopwatch.StartNew();
        var times = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => CloneOneAsync()));
        return ([.. times], watch.Elapsed.TotalSeconds);
    }

    /// <summary>Grows the pool in bursts of <paramref name="step"/> until <paramref name="target"/> VMs or until the machine has less than <paramref name="floorMiB"/> available.</summary>
    public async Task GrowAsync(int target, int step, long floorMiB)
    {
        var failedBursts = 0;
        while (_vms.Count < target && VmStats.AvailableMiB() > floorMiB && failedBursts < 3)
        {
            var batch = Math.Min(step, target - _vms.Count);
            var watch = Stopwatch.StartNew();
            try
            {
                await BurstAsync(batch);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException)
            {
                // The clones that worked are kept; a machine that cannot take more shows here.
                failedBursts++;
                await log.WriteLineAsync($"  a clone failed: {ex.Message}");
            }

            await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {_vms.Count} VMs ({batch} asked for in {watch.Elapsed.TotalSeconds:0.0} s), {VmStats.AvailableMiB()} MiB available, load {VmStats.LoadAverage()}"));
        }
    }

    /// <summary>Per-VM memory (KiB: Rss, Pss, Private) and CPU (% of one core over <paramref name="window"/>), with threads.</summary>
    public async Task<IdleCost> IdleCostAsync(TimeSpan window)
    {
        var pids = Vms.Select(vm => Pid(vm.Name)).ToList();
        var before = pids.Select(VmStats.CpuSeconds).ToList();
        await Task.Delay(window, TimeProvider.System);
        var cpu = pids.Select((pid, i) => (VmStats.CpuSeconds(pid) - before[i]) / window.TotalSeconds * 100).ToList();
        var memory = pids.Select(VmStats.Memory).ToList();
        // A few at a time: hundreds of guests asked at once all need the CPU together to fork their sshd child, and on a
        // loaded 2-core host none answers within the limit (the first capacity run counted 0 of 280 that way).
        using var probes = new SemaphoreSlim(4);
        var ssh = await Task.WhenAll(Vms.Select(async vm =>
        {
            await probes.WaitAsync();
            try
            {
                return await VmStats.AnswersSshAsync(vm.Ip!, vm.SshPort ?? 22);
            }
            finally
            {
                probes.Release();
            }
        }));
        return new IdleCost(
            pids.Count,
            ssh.Count(ok => ok),
            memory.Average(m => m.Rss) / 1024,
            memory.Average(m => m.Pss) / 1024,
            memory.Average(m => m.Private) / 1024,
            memory.Sum(m => m.Pss) / 1024,
            cpu.Average(),
            cpu.Sum(),
            pids.Average(VmStats.Threads));
    }

    public async Task DestroyAllAsync()
    {
        using var slots = new SemaphoreSlim(8);
        await Task.WhenAll(_vms.Keys.ToList().Select(async name =>
        {
            await slots.WaitAsync();
            try
            {
                await provider.DestroyVmAsync(pool, name, CancellationToken.None);
                _vms.TryRemove(name, out _);
            }
            finally
            {
                slots.Release();
            }
        }));
    }

    private int Pid(string vm)
        => int.Parse(File.ReadAllText(Path.Combine(provider.VmDirectory(pool.Name, vm), "qemu.pid")).Trim(), CultureInfo.InvariantCulture);
}

/// <summary>What idle VMs cost: memory per VM in MiB, CPU in % of one core.</summary>
internal sealed record IdleCost(int Vms, int AnsweringSsh, double RssMiB, double PssMiB, double PrivateMiB, double TotalPssMiB, double CpuPercent, double TotalCpuPercent, double Threads);
