using StackExchange.Redis;
using VmPooler.Core.Operations;

namespace VmPooler.Redis;

/// <summary>
/// Operations state in Redis: one string per document, <c>&lt;prefix&gt;:{ops}:&lt;name&gt;</c>, set with an expiry
/// (upstream keeps its health in <c>vmpooler__health</c> with EXPIRE 3600; ours expires sooner unless refreshed).
/// </summary>
internal sealed class RedisOperationsStateStore(RedisConnection connection, TimeProvider timeProvider) : IOperationsStateStore
{
    public RedisKey Key(string name) => $"{connection.Keys.Prefix}:{{ops}}:{name}";

    public Task PutAsync(string name, string json, TimeSpan timeToLive, CancellationToken cancellationToken)
        => connection.GuardAsync(() => connection.Database.StringSetAsync(Key(name), json, timeToLive), timeProvider, cancellationToken);

    public Task<string?> GetAsync(string name, CancellationToken cancellationToken)
        => connection.GuardAsync(async () => (string?)await connection.Database.StringGetAsync(Key(name)), timeProvider, cancellationToken);
}
