using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using VmPooler.Core.Diagnostics;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;

namespace VmPooler.Redis;

/// <summary>
/// Per-pool manager leases in Redis. Each pool's lease is one key on the pool's own slot (<c>&lt;prefix&gt;:{&lt;pool&gt;}:lease</c>,
/// holding the owner's id) taken, renewed and released by one script per pool; the scripts of one call are pipelined,
/// so a manager renews a thousand pools in one round trip's time, on a single server or across a cluster's nodes. Expiry
/// is Redis' own (PX): one clock, the server's, decides whether a lease has lapsed, whatever the managers' hosts say.
/// The registry is one key per manager (JSON, PX) plus a set of ids, all on the <c>{managers}</c> slot; ids whose key has
/// expired are pruned when the registry is read. Changes are announced on a pub/sub channel. Every operation is
/// bounded by <c>redis.operation_timeout</c> and reports an unreachable Redis as <see cref="InventoryUnavailableException"/>.
/// </summary>
internal sealed partial class RedisPoolLeaseStore(RedisConnection connection, TimeProvider timeProvider, ILogger<RedisPoolLeaseStore> logger)
    : IPoolLeaseStore
{
    private static readonly string LeaseScript = RedisConnection.LoadScript("pool_lease", withPrelude: false);
    private static readonly string RegisterScript = RedisConnection.LoadScript("manager_register", withPrelude: false);
    private static readonly string UnregisterScript = RedisConnection.LoadScript("manager_unregister", withPrelude: false);
    private static readonly string ListScript = RedisConnection.LoadScript("manager_list", withPrelude: false);

    private readonly RedisKeys _keys = connection.Keys;

    private IDatabase Db => connection.Database;

    public Task<IReadOnlySet<string>> AcquireAsync(string managerId, IReadOnlyCollection<string> pools, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        PoolLeaseArguments.CheckManagerId(managerId);
        PoolLeaseArguments.CheckTimeToLive(timeToLive);
        var ttl = (long)Math.Ceiling(timeToLive.TotalMilliseconds);
        return connection.GuardAsync(
            async () =>
            {
                var results = await PerPoolAsync(pools, keys => EvalAsync(LeaseScript, keys, [managerId, "acquire", ttl]));
                return (IReadOnlySet<string>)results.Where(r => r.Done).Select(r => r.Pool).ToHashSet(StringComparer.Ordinal);
            },
            timeProvider,
            cancellationToken);
    }

    public Task ReleaseAsync(string managerId, IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var results = await PerPoolAsync(pools, keys => EvalAsync(LeaseScript, keys, [managerId, "release"]));
                if (results.Any(r => r.Done))
                {
                    await PublishAsync(managerId);
                }
            },
            timeProvider,
            cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetOwnersAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var distinct = pools.Distinct(StringComparer.Ordinal).ToList();
                var owners = await Task.WhenAll(distinct.Select(pool => Db.StringGetAsync(_keys.PoolLease(pool))));
                var result = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var i = 0; i < distinct.Count; i++)
                {
                    if (!owners[i].IsNull)
                    {
                        result[distinct[i]] = owners[i]!;
                    }
                }

                return (IReadOnlyDictionary<string, string>)result;
            },
            timeProvider,
            cancellationToken);

    /// <summary>Stores <paramref name="registration"/> with <see cref="ManagerRegistration.Renewed"/> set to now (the injected clock).</summary>
    public Task RegisterAsync(ManagerRegistration registration, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        PoolLeaseArguments.CheckManagerId(registration.Id);
        PoolLeaseArguments.CheckTimeToLive(timeToLive);
        var ttl = (long)Math.Ceiling(timeToLive.TotalMilliseconds);
        var json = ManagerRegistrationJson.Write(registration with { Renewed = timeProvider.GetUtcNow() });
        return connection.GuardAsync(
            async () =>
            {
                var first = (int)await EvalAsync(RegisterScript, [_keys.Manager(registration.Id), _keys.ManagerIds], [registration.Id, json, ttl]) == 1;
                if (first)
                {
                    await PublishAsync(registration.Id);
                }
            },
            timeProvider,
            cancellationToken);
    }

    public Task UnregisterAsync(string managerId, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                if ((int)await EvalAsync(UnregisterScript, [_keys.Manager(managerId), _keys.ManagerIds], [managerId]) == 1)
                {
                    await PublishAsync(managerId);
                }
            },
            timeProvider,
            cancellationToken);

    public Task<IReadOnlyList<ManagerRegistration>> GetManagersAsync(CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var entries = (RedisValue[])(await EvalAsync(ListScript, [_keys.ManagerIds], [_keys.ManagerPrefix]))!;
                var managers = new List<ManagerRegistration>(entries.Length);
                foreach (var entry in entries)
                {
                    try
                    {
                        managers.Add(ManagerRegistrationJson.Read(entry!));
                    }
                    catch (JsonException ex)
                    {
                        LogUnreadable(logger, ex.Message);
                    }
                }

                return (IReadOnlyList<ManagerRegistration>)[.. managers.OrderBy(m => m.Id, StringComparer.Ordinal)];
            },
            timeProvider,
            cancellationToken);

    public IDisposable SubscribeChanges(Action onChange)
    {
        Action<RedisChannel, RedisValue> handler = (_, _) => onChange();
        var subscriber = connection.Subscriber;
        // Subscribes now, or once the connection comes up (the new client refuses a SUBSCRIBE while disconnected).
        connection.Subscribe(_keys.ManagerChanges, handler);
        return new Subscription(() =>
        {
            try
            {
                subscriber.Unsubscribe(_keys.ManagerChanges, handler);
            }
            catch (RedisConnectionException)
            {
                // Not connected: the server holds no subscription to drop; the handler is gone from the client all the same.
            }
        });
    }

    private Task PublishAsync(string managerId) => connection.Subscriber.PublishAsync(_keys.ManagerChanges, managerId);

    /// <summary>
    /// Runs the lease script over the distinct pools' lease keys: one call for all of them on a single server (a
    /// thousand pools renewed in one script), one call per hash slot on a cluster, all sent before any answer is awaited.
    /// </summary>
    private async Task<(string Pool, bool Done)[]> PerPoolAsync(IReadOnlyCollection<string> pools, Func<RedisKey[], Task<RedisResult>> script)
    {
        var distinct = pools.Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count == 0)
        {
            return [];
        }

        var batches = connection.IsCluster
            ? [.. distinct.GroupBy(pool => connection.HashSlot(_keys.PoolLease(pool))).Select(g => g.ToList())]
            : new List<List<string>> { distinct };
        var answers = await Task.WhenAll(batches.Select(batch => script([.. batch.Select(_keys.PoolLease)])));
        return [.. batches.Zip(answers).SelectMany(b => b.First.Zip((RedisResult[])b.Second!, (pool, done) => (pool, (int)done == 1)))];
    }

    private async Task<RedisResult> EvalAsync(string script, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await Db.ScriptEvaluateAsync(script, keys, args);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await Db.ScriptEvaluateAsync(script, keys, args);
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                dispose();
            }
        }
    }

    [LoggerMessage(EventIds.ManagerRegistrationUnreadable, LogLevel.Warning, "[redis] skipped a manager registration that could not be read: {Error}")]
    private static partial void LogUnreadable(ILogger logger, string error);
}
