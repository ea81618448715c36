using System.Collections.Concurrent;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;

namespace VmPooler.Tests.Manager;

/// <summary>Wraps a provider, counting calls and letting a test override the IP answer (a fault the dummy cannot inject).</summary>
internal sealed class RecordingProvider(IVmProvider inner) : IVmProvider
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    public string Name => inner.Name;

    /// <summary>When set, replaces the IP address the inner provider reports.</summary>
    public Func<string, string?>? IpOverride { get; set; }

    public int Calls(string method) => _calls.GetValueOrDefault(method);

    public Task<IReadOnlyList<string>> VmsInPoolAsync(PoolOptions pool, CancellationToken cancellationToken)
        => Count(nameof(VmsInPoolAsync), () => inner.VmsInPoolAsync(pool, cancellationToken));

    /// <summary>When set and it returns an exception for a VM name, the clone fails with that exception.</summary>
    public Func<string, Exception?>? CreateFailure { get; set; }

    public Task<ProviderVm> CreateVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => Count(nameof(CreateVmAsync), () => CreateFailure?.Invoke(vmName) is { } failure
            ? Task.FromException<ProviderVm>(failure)
            : inner.CreateVmAsync(pool, vmName, cancellationToken));

    public Task<string?> GetVmIpAddressAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => Count(nameof(GetVmIpAddressAsync), () => IpOverride is { } ip ? Task.FromResult(ip(vmName)) : inner.GetVmIpAddressAsync(pool, vmName, cancellationToken));

    public Task<ReadyCheckResult> CheckVmReadyAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => Count(nameof(CheckVmReadyAsync), () => inner.CheckVmReadyAsync(pool, vmName, cancellationToken));

    public Task<ProviderVm?> GetVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => Count(nameof(GetVmAsync), () => inner.GetVmAsync(pool, vmName, cancellationToken));

    public Task<bool> DestroyVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => Count(nameof(DestroyVmAsync), () => inner.DestroyVmAsync(pool, vmName, cancellationToken));

    public Task<bool> CreateDiskAsync(PoolOptions pool, string vmName, int sizeGb, CancellationToken cancellationToken)
        => Count(nameof(CreateDiskAsync), () => inner.CreateDiskAsync(pool, vmName, sizeGb, cancellationToken));

    public Task<bool> CreateSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
        => Count(nameof(CreateSnapshotAsync), () => inner.CreateSnapshotAsync(pool, vmName, snapshotName, cancellationToken));

    public Task<bool> RevertSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
        => Count(nameof(RevertSnapshotAsync), () => inner.RevertSnapshotAsync(pool, vmName, snapshotName, cancellationToken));

    private Task<T> Count<T>(string method, Func<Task<T>> call)
    {
        _calls.AddOrUpdate(method, 1, (_, n) => n + 1);
        return call();
    }
}
