using System.Collections.Concurrent;

namespace VmPooler.Core.Operations;

/// <summary>The operations state of the embedded inventory (one process serves the API and runs the manager).</summary>
internal sealed class MemoryOperationsStateStore(TimeProvider timeProvider) : IOperationsStateStore
{
    private readonly ConcurrentDictionary<string, (string Json, DateTimeOffset Expires)> _documents = new(StringComparer.Ordinal);

    public Task PutAsync(string name, string json, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        _documents[name] = (json, timeProvider.GetUtcNow() + timeToLive);
        return Task.CompletedTask;
    }

    public Task<string?> GetAsync(string name, CancellationToken cancellationToken)
        => Task.FromResult(_documents.TryGetValue(name, out var d) && d.Expires > timeProvider.GetUtcNow() ? d.Json : null);
}
