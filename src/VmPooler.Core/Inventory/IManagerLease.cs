namespace VmPooler.Core.Inventory;

/// <summary>
/// Who may run the pool manager: only the holder of the lease clones and destroys, so a second manager process (a
/// stand-by, or an old one not quite dead) never doubles a pool. Holders renew well before the time-to-live runs out.
/// </summary>
public interface IManagerLease
{
    /// <summary>Takes the lease for <paramref name="holder"/>, or renews it if it already holds it. False when another holds it.</summary>
    Task<bool> TryAcquireAsync(string holder, TimeSpan timeToLive, CancellationToken cancellationToken);

    /// <summary>Gives the lease up if <paramref name="holder"/> holds it.</summary>
    Task ReleaseAsync(string holder, CancellationToken cancellationToken);
}

/// <summary>The lease of a single-process installation (the embedded inventory): always granted.</summary>
public sealed class ProcessLocalLease : IManagerLease
{
    public Task<bool> TryAcquireAsync(string holder, TimeSpan timeToLive, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task ReleaseAsync(string holder, CancellationToken cancellationToken) => Task.CompletedTask;
}
