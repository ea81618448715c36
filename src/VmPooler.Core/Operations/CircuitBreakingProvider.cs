using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;

namespace VmPooler.Core.Operations;

/// <summary>
/// Wraps a provider with its circuit breaker and adaptive timeout, so whatever manager calls it does not hammer a
/// provider that is down. The quick calls (listing, IP, lookup, ready check) get the adaptive time limit; clones,
/// destroys, disks and snapshots keep the manager's own limits. A call the caller cancels counts neither way.
/// </summary>
internal sealed class CircuitBreakingProvider(IVmProvider inner, CircuitBreaker breaker, AdaptiveTimeout timeout, TimeProvider timeProvider) : IVmProvider
{
    public string Name => inner.Name;

    /// <summary>The wrapped provider.</summary>
    public IVmProvider Inner => inner;

    public Task<IReadOnlyList<string>> VmsInPoolAsync(PoolOptions pool, CancellationToken cancellationToken)
        => CallAsync(c => inner.VmsInPoolAsync(pool, c), quick: true, cancellationToken);

    public Task<ProviderVm> CreateVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => CallAsync(c => inner.CreateVmAsync(pool, vmName, c), quick: false, cancellationToken);

    public Task<string?> GetVmIpAddressAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => CallAsync(c => inner.GetVmIpAddressAsync(pool, vmName, c), quick: true, cancellationToken);

    public Task<ReadyCheckResult> CheckVmReadyAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => CallAsync(c => inner.CheckVmReadyAsync(pool, vmName, c), quick: true, cancellationToken);

    public Task<ProviderVm?> GetVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => CallAsync(c => inner.GetVmAsync(pool, vmName, c), quick: true, cancellationToken);

    public Task<bool> DestroyVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => CallAsync(c => inner.DestroyVmAsync(pool, vmName, c), quick: false, cancellationToken);

    public Task<bool> CreateDiskAsync(PoolOptions pool, string vmName, int sizeGb, CancellationToken cancellationToken)
        => CallAsync(c => inner.CreateDiskAsync(pool, vmName, sizeGb, c), quick: false, cancellationToken);

    public Task<bool> CreateSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
        => CallAsync(c => inner.CreateSnapshotAsync(pool, vmName, snapshotName, c), quick: false, cancellationToken);

    public Task<bool> RevertSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
        => CallAsync(c => inner.RevertSnapshotAsync(pool, vmName, snapshotName, c), quick: false, cancellationToken);

    private async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, bool quick, CancellationToken cancellationToken)
    {
        breaker.Enter();
        var limit = quick ? timeout.Current : null;
        using var limiter = limit is { } l ? new CancellationTokenSource(l, timeProvider) : null;
        using var linked = limiter is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limiter.Token);
        var started = timeProvider.GetTimestamp();
        try
        {
            var result = await call(linked?.Token ?? cancellationToken);
            breaker.Success();
            if (quick)
            {
                timeout.Succeeded(timeProvider.GetElapsedTime(started));
            }

            return result;
        }
        catch (OperationCanceledException ex) when (limiter is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            var message = $"provider '{Name}' did not answer within {limit!.Value.TotalSeconds:0.#} s (adaptive timeout)";
            breaker.Failure(message);
            timeout.Failed();
            throw new TimeoutException(message, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            breaker.Abandoned();
            throw;
        }
        catch (Exception ex)
        {
            breaker.Failure(ex.Message);
            if (quick)
            {
                timeout.Failed();
            }

            throw;
        }
    }
}
