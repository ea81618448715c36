using VmPooler.Core.Leases;

namespace VmPooler.Tests.Manager;

/// <summary>
/// A lease store whose calls can be held at a gate (a renewal hanging while Redis fails over) and let through later;
/// otherwise it passes every call to the store it wraps.
/// </summary>
internal sealed class GatedLeaseStore(IPoolLeaseStore inner) : IPoolLeaseStore
{
    private readonly Lock _lock = new();
    private TaskCompletionSource? _gate;
    private int _waiting;

    /// <summary>Calls waiting at the gate now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>From now on, calls wait until <see cref="Open"/>.</summary>
    public void Hold()
    {
        lock (_lock)
        {
            _gate ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Lets the waiting calls (and every later one) through.</summary>
    public void Open()
    {
        TaskCompletionSource? gate;
        lock (_lock)
        {
            gate = _gate;
            _gate = null;
        }

        gate?.TrySetResult();
    }

    private async Task PassAsync()
    {
        Task? wait;
        lock (_lock)
        {
            wait = _gate?.Task;
        }

        if (wait is null)
        {
            return;
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            await wait;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    public async Task<IReadOnlySet<string>> AcquireAsync(string managerId, IReadOnlyCollection<string> pools, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        await PassAsync();
        return await inner.AcquireAsync(managerId, pools, timeToLive, cancellationToken);
    }

    public async Task ReleaseAsync(string managerId, IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
    {
        await PassAsync();
        await inner.ReleaseAsync(managerId, pools, cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, string>> GetOwnersAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
    {
        await PassAsync();
        return await inner.GetOwnersAsync(pools, cancellationToken);
    }

    public async Task RegisterAsync(ManagerRegistration registration, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        await PassAsync();
        await inner.RegisterAsync(registration, timeToLive, cancellationToken);
    }

    public async Task UnregisterAsync(string managerId, CancellationToken cancellationToken)
    {
        await PassAsync();
        await inner.UnregisterAsync(managerId, cancellationToken);
    }

    public async Task<IReadOnlyList<ManagerRegistration>> GetManagersAsync(CancellationToken cancellationToken)
    {
        await PassAsync();
        return await inner.GetManagersAsync(cancellationToken);
    }

    public IDisposable SubscribeChanges(Action onChange) => inner.SubscribeChanges(onChange);
}
