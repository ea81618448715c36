using System.Collections.Concurrent;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;

namespace VmPooler.Providers.Dummy;

/// <summary>
/// A simulated provider (spec §6.3): VMs live in memory, and every operation can be given a delay and a failure
/// chance, so the manager can be exercised — and tortured — without real machines. It implements the current
/// contract (a fake IP, a three-outcome ready check), unlike the original's in-tree dummy (spec Q11).
/// All waits go through the injected <see cref="TimeProvider"/>.
/// With <c>state_dir</c> the VMs are files in a directory, so they outlive the process and several processes (a
/// restarted manager, a test checking for leaks) see the same VMs; with <c>outage_file</c> every call fails while that
/// file exists, and each such call is counted, so tests can measure how hard the manager hammers a dead provider; with
/// <c>calm_file</c> no fault is injected while that file exists, so a test can let things settle before it checks them.
/// </summary>
internal sealed class DummyProvider : IVmProvider
{
    private readonly DummyProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private readonly IDummyVmStore _vms;

    /// <summary>The VMs this process is cloning right now (a clone in no process's list was abandoned).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _cloning = new(StringComparer.Ordinal);

    public DummyProvider(string name, DummyProviderOptions options, TimeProvider timeProvider, Random? random = null)
    {
        Name = name;
        _options = options;
        _time = timeProvider;
        _random = random ?? (options.Seed is { } seed ? new Random(seed) : new Random());
        _vms = options.StateDirectory is { Length: > 0 } directory ? new DirectoryVmStore(directory) : new MemoryVmStore();
    }

    public string Name { get; }

    /// <summary>Every VM this provider currently holds, for tests that check nothing leaked.</summary>
    public IReadOnlyCollection<DummyVm> Vms => [.. _vms.All()];

    public Task<IReadOnlyList<string>> VmsInPoolAsync(PoolOptions pool, CancellationToken cancellationToken)
    {
        if (InOutage("vms_in_pool") is { } outage)
        {
            return Task.FromException<IReadOnlyList<string>>(outage);
        }

        if (Chance(_options.VmsInPoolFailPercent))
        {
            return Task.FromException<IReadOnlyList<string>>(Injected("vms_in_pool"));
        }

        return Task.FromResult(_vms.NamesIn(pool.Name));
    }

    public async Task<ProviderVm> CreateVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        ThrowInOutage("create_vm");
        var vm = new DummyVm(vmName, pool.Name, pool.Template, _time.GetUtcNow());
        if (!_vms.TryAdd(vm))
        {
            throw new InvalidOperationException($"dummy provider: a VM named '{vmName}' already exists");
        }

        _cloning[vmName] = 0;
        try
        {
            await DelayAsync(_options.CreateVmMinTime, _options.CreateVmMaxTime, cancellationToken);
            MaybeFail(_options.CreateVmFailPercent, "create_vm");
        }
        catch
        {
            _vms.Remove(vmName);
            _cloning.TryRemove(vmName, out _);
            throw;
        }

        var clonedAt = _time.GetUtcNow();
        vm.BootsAt = clonedAt + Delay(_options.BootMinTime, _options.BootMaxTime);
        vm.ClonedAt = clonedAt;
        _vms.Save(vm);
        _cloning.TryRemove(vmName, out _);
        return vm.ToProviderVm();
    }

    public Task<string?> GetVmIpAddressAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => InOutage("get_vm_ip_address") is { } outage
            ? Task.FromException<string?>(outage)
            : Task.FromResult(Find(pool, vmName) is null ? null : _options.Ip);

    public Task<ReadyCheckResult> CheckVmReadyAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        if (InOutage("vm_ready?") is { } outage)
        {
            return Task.FromException<ReadyCheckResult>(outage);
        }

        var vm = Find(pool, vmName);
        if (vm is null)
        {
            return Task.FromResult(ReadyCheckResult.NotReady($"dummy provider: no VM '{vmName}' in pool '{pool.Name}'"));
        }

        if (vm.ClonedAt is null && !_cloning.ContainsKey(vmName))
        {
            // Its clone never finished and no clone of it runs in this process: the process that cloned it died.
            return Task.FromResult(ReadyCheckResult.CloneAbandoned($"dummy provider: the clone of '{vmName}' did not finish (its process is gone)"));
        }

        if (vm.ClonedAt is null || _time.GetUtcNow() < vm.BootsAt)
        {
            return Task.FromResult(ReadyCheckResult.NotReady("still booting"));
        }

        if (vm.PoweredOff)
        {
            return Task.FromResult(ReadyCheckResult.NotReady("powered off"));
        }

        return Chance(_options.VmReadyFailPercent)
            ? Task.FromException<ReadyCheckResult>(Injected("vm_ready?"))
            : Task.FromResult(ReadyCheckResult.Ready);
    }

    public Task<ProviderVm?> GetVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        if (InOutage("get_vm") is { } outage)
        {
            return Task.FromException<ProviderVm?>(outage);
        }

        var vm = Find(pool, vmName);
        if (vm is not null)
        {
            var changed = false;
            if (Chance(_options.GetVmPowerOffPercent))
            {
                vm.PoweredOff = true;
                changed = true;
            }

            if (Chance(_options.GetVmRenamePercent))
            {
                vm.Hostname = "DUMMY" + vm.Name;
                changed = true;
            }

            if (changed)
            {
                _vms.Save(vm);
            }
        }

        return Task.FromResult(vm?.ToProviderVm());
    }

    public async Task<bool> DestroyVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        ThrowInOutage("destroy_vm");
        if (_vms.Get(vmName) is not { } vm)
        {
            return true;
        }

        if (vm.Pool != pool.Name)
        {
            // Not this pool's VM: it is not destroyed, so it is not "gone" either.
            return false;
        }

        await DelayAsync(TimeSpan.Zero, _options.DestroyVmMaxShutdownTime, cancellationToken);
        await DelayAsync(TimeSpan.Zero, _options.DestroyVmMaxTime, cancellationToken);
        MaybeFail(_options.DestroyVmFailPercent, "destroy_vm");
        _vms.Remove(vmName);
        return true;
    }

    public async Task<bool> CreateDiskAsync(PoolOptions pool, string vmName, int sizeGb, CancellationToken cancellationToken)
    {
        ThrowInOutage("create_disk");
        var vm = Find(pool, vmName);
        if (vm is null)
        {
            return false;
        }

        await DelayAsync(TimeSpan.Zero, _options.CreateDiskMaxTime, cancellationToken);
        MaybeFail(_options.CreateDiskFailPercent, "create_disk");
        lock (vm)
        {
            vm.Disks.Add(sizeGb);
            _vms.Save(vm);
        }

        return true;
    }

    public async Task<bool> CreateSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
    {
        ThrowInOutage("create_snapshot");
        var vm = Find(pool, vmName);
        if (vm is null)
        {
            return false;
        }

        await DelayAsync(TimeSpan.Zero, _options.CreateSnapshotMaxTime, cancellationToken);
        MaybeFail(_options.CreateSnapshotFailPercent, "create_snapshot");
        lock (vm)
        {
            vm.Snapshots.Add(snapshotName);
            _vms.Save(vm);
        }

        return true;
    }

    public async Task<bool> RevertSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
    {
        ThrowInOutage("revert_snapshot");
        var vm = Find(pool, vmName);
        if (vm is null)
        {
            return false;
        }

        await DelayAsync(TimeSpan.Zero, _options.RevertSnapshotMaxTime, cancellationToken);
        MaybeFail(_options.RevertSnapshotFailPercent, "revert_snapshot");
        lock (vm)
        {
            return vm.Snapshots.Contains(snapshotName);
        }
    }

    private DummyVm? Find(PoolOptions pool, string vmName)
        => _vms.Get(vmName) is { } vm && vm.Pool == pool.Name ? vm : null;

    /// <summary>
    /// While <c>outage_file</c> exists, every call fails: the failure is returned, and the call is counted by appending
    /// one line (the operation) to <c>outage_file.calls</c>.
    /// </summary>
    private DummyProviderException? InOutage(string operation)
    {
        if (_options.OutageFile is not { Length: > 0 } file || !File.Exists(file))
        {
            return null;
        }

        try
        {
            File.AppendAllText(file + ".calls", operation + "\n");
        }
        catch (IOException)
        {
            // Counting is best effort; the call still fails.
        }

        return Injected(operation + " (provider outage)");
    }

    private void ThrowInOutage(string operation)
    {
        if (InOutage(operation) is { } outage)
        {
            throw outage;
        }
    }

    private Task DelayAsync(TimeSpan min, TimeSpan max, CancellationToken cancellationToken)
    {
        var delay = Delay(min, max);
        return delay > TimeSpan.Zero ? Task.Delay(delay, _time, cancellationToken) : Task.CompletedTask;
    }

    /// <summary>A delay drawn uniformly from [min, max]; zero when max is zero.</summary>
    private TimeSpan Delay(TimeSpan min, TimeSpan max)
    {
        if (max <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        if (min >= max)
        {
            return max;
        }

        double sample;
        lock (_randomGate)
        {
            sample = _random.NextDouble();
        }

        return min + ((max - min) * sample);
    }

    private bool Chance(double percent)
    {
        if (percent <= 0 || (_options.CalmFile is { Length: > 0 } calm && File.Exists(calm)))
        {
            return false;
        }

        if (percent >= 100)
        {
            return true;
        }

        lock (_randomGate)
        {
            return _random.NextDouble() * 100 < percent;
        }
    }

    private void MaybeFail(double percent, string operation)
    {
        if (Chance(percent))
        {
            throw Injected(operation);
        }
    }

    private static DummyProviderException Injected(string operation) => new($"dummy provider: injected {operation} failure");
}

/// <summary>A VM held by the dummy provider.</summary>
internal sealed class DummyVm(string name, string pool, string template, DateTimeOffset createdAt)
{
    public string Name { get; } = name;
    public string Pool { get; } = pool;
    public string Template { get; } = template;
    public string Hostname { get; set; } = name;
    public DateTimeOffset CreatedAt { get; } = createdAt;

    /// <summary>When the clone finished; null while it is still being cloned (or when the cloning process died).</summary>
    public DateTimeOffset? ClonedAt { get; set; }
    public DateTimeOffset BootsAt { get; set; }
    public bool PoweredOff { get; set; }
    public List<int> Disks { get; init; } = [];
    public HashSet<string> Snapshots { get; init; } = new(StringComparer.Ordinal);

    internal ProviderVm ToProviderVm() => new()
    {
        Name = Name,
        Hostname = Hostname,
        Template = Template,
        PoolName = Pool,
        BootTime = CreatedAt,
        PowerState = PoweredOff ? "PoweredOff" : "PoweredOn",
        Ip = "127.0.0.1",
    };
}

/// <summary>A failure the dummy provider injected on purpose.</summary>
public sealed class DummyProviderException(string message) : Exception(message);
