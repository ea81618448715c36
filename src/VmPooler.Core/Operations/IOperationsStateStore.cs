namespace VmPooler.Core.Operations;

/// <summary>
/// Where the manager publishes operational state (provider breakers, the health evaluation) so that every API process
/// serves it: small JSON documents by name, each expiring unless refreshed (a dead manager's state does not linger).
/// </summary>
public interface IOperationsStateStore
{
    Task PutAsync(string name, string json, TimeSpan timeToLive, CancellationToken cancellationToken);

    /// <summary>The document, or null when none was published or it expired.</summary>
    Task<string?> GetAsync(string name, CancellationToken cancellationToken);
}
