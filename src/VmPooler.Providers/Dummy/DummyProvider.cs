using System.Collections.Concurrent;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;

namespace VmPooler.Providers.Dummy;

/// <summary>
/// A simulated provider (spec §6.3): VMs live in memory, and every operation can be given a delay and a failure
/// chance, so the manager can be exercised — and tortured — without real machines. It implements the current
/// contract (a fake IP, a three-outcome ready check), unlike the original's in-tree dummy (spec Q11).
/// All waits go through the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class DummyProvider : IVmProvider
{
    private readonly DummyProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private readonly ConcurrentDictionary<string, DummyVm> _vms = new(StringComparer.Ordinal);

    public DummyProvider(string name, DummyProviderOptions options, TimeProvider timeProvider, Random? random = null)
    {
        Name = name;
        _options = options;
        _time = timeProvider;
        _random = random ?? (options.Seed is { } seed ? new Random(seed) : new Random());
    }

    public string Name { get; }

    /// <summary>Every VM this provider currently holds, for tests that check nothing leaked.</summary>
    public IReadOnlyCollection<DummyVm> Vms => [.. _vms.Values];

    public Task<IReadOnlyList<string>> VmsInPoolAsync(PoolOptions pool, CancellationToken cancellationToken)
    {
        if (Chance(_options.VmsInPoolFailPercent))
        {
            return Task.FromException<IReadOnlyList<string>>(Injected("vms_in_pool"));
        }

        // Enumerating the dictionary itself takes no locks and copies nothing (its Values property copies every VM of
        // every pool under all its locks, on every pass of every pool).
        var names = new List<string>();
        foreach (var (name, vm) in _vms)
        {
            if (vm.Pool == pool.Name)
            {
                names.Add(name);
            }
        }
        return Task.FromResult<IReadOnlyList<string>>(names);
    }

    public async Task<ProviderVm> CreateVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var vm = new DummyVm(vmName, pool.Name, pool.Template, _time.GetUtcNow());
        if (!_vms.TryAdd(vmName, vm))
        {
            throw new InvalidOperationException($"dummy provider: a VM named '{vmName}' already exists");
        }

        try
        {
            await DelayAsync(_options.CreateVmMinTime, _options.CreateVmMaxTime, cancellationToken);
            MaybeFail(_options.CreateVmFailPercent, "create_vm");
        }
        catch
        {
            _vms.TryRemove(vmName, out _);
            throw;
        }

        var clonedAt = _time.GetUtcNow();
        vm.BootsAt = clonedAt + Delay(_options.BootMinTime, _options.BootMaxTime);
        vm.ClonedAt = clonedAt;
        return vm.ToProviderVm();
    }

    public Task<string?> GetVmIpAddressAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => Task.FromResult(Find(pool, vmName) is null ? null : _options.Ip);

    public Task<ReadyCheckResult> CheckVmReadyAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var vm = Find(pool, vmName);
        if (vm is null)
        {
            return Task.FromResult(ReadyCheckResult.NotReady($"dummy provider: no VM '{vmName}' in pool '{pool.Name}'"));
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
        var vm = Find(pool, vmName);
        if (vm is not null)
        {
            if (Chance(_options.GetVmPowerOffPercent))
            {
                vm.PoweredOff = true;
            }

            if (Chance(_options.GetVmRenamePercent))
            {
                vm.Hostname = "DUMMY" + vm.Name;
            }
        }

        return Task.FromResult(vm?.ToProviderVm());
    }

    public async Task<bool> DestroyVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        if (!_vms.TryGetValue(vmName, out var vm))
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
        _vms.TryRemove(vmName, out _);
        return true;
    }

    public async Task<bool> CreateDiskAsync(PoolOptions pool, string vmName, int sizeGb, CancellationToken cancellationToken)
    {
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
        }

        return true;
    }

    public async Task<bool> CreateSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
    {
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
        }

        return true;
    }

    public async Task<bool> RevertSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
    {
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
        => _vms.TryGetValue(vmName, out var vm) && vm.Pool == pool.Name ? vm : null;

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
        if (percent <= 0)
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
public sealed class DummyVm(string name, string pool, string template, DateTimeOffset createdAt)
{
    public string Name { get; } = name;
    public string Pool { get; } = pool;
    public string Template { get; } = template;
    public string Hostname { get; set; } = name;
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public DateTimeOffset? ClonedAt { get; set; }
    public DateTimeOffset BootsAt { get; set; }
    public bool PoweredOff { get; set; }
    public List<int> Disks { get; } = [];
    public HashSet<string> Snapshots { get; } = new(StringComparer.Ordinal);

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
