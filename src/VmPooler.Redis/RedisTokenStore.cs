using System.Globalization;
using StackExchange.Redis;
using VmPooler.Core.Inventory;
using VmPooler.Core.Tokens;

namespace VmPooler.Redis;

/// <summary>Tokens in Redis: one hash per token keyed by the token's SHA-256, a per-user index and a per-token VM set, all on one slot.</summary>
public sealed class RedisTokenStore(RedisConnection connection, TimeProvider timeProvider) : ITokenStore
{
    private readonly RedisKeys _keys = connection.Keys;

    private IDatabase Db => connection.Database;

    public Task CreateAsync(TokenRecord token, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var transaction = Db.CreateTransaction();
                _ = transaction.HashSetAsync(_keys.Token(token.Hash),
                [
                    new HashEntry("user", token.User),
                    new HashEntry("hint", token.Hint),
                    new HashEntry("created", VmTime.Format(token.Created)),
                ]);
                _ = transaction.SortedSetAddAsync(_keys.UserTokens(token.User), token.Hash, token.Created.ToUnixTimeMilliseconds());
                await transaction.ExecuteAsync();
            },
            timeProvider,
            cancellationToken);

    public Task<TokenRecord?> GetAsync(string hash, CancellationToken cancellationToken)
        => connection.GuardAsync(async () => Read(hash, await Db.HashGetAllAsync(_keys.Token(hash))), timeProvider, cancellationToken);

    public Task TouchAsync(string hash, DateTimeOffset now, CancellationToken cancellationToken)
        => connection.GuardAsync(
            // Only when the token still exists: a touch must not resurrect a deleted token as a hash with just "last".
            () => Db.ScriptEvaluateAsync(
                "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'last', ARGV[1]) end return 0",
                [_keys.Token(hash)],
                [VmTime.Format(now)]),
            timeProvider,
            cancellationToken);

    public Task<bool> DeleteAsync(string hash, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var user = await Db.HashGetAsync(_keys.Token(hash), "user");
                var transaction = Db.CreateTransaction();
                var deleted = transaction.KeyDeleteAsync(_keys.Token(hash));
                _ = transaction.KeyDeleteAsync(_keys.TokenVms(hash));
                if (!user.IsNull)
                {
                    _ = transaction.SortedSetRemoveAsync(_keys.UserTokens(user!), hash);
                }

                await transaction.ExecuteAsync();
                return await deleted;
            },
            timeProvider,
            cancellationToken);

    public Task<IReadOnlyList<TokenRecord>> ListAsync(string user, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var hashes = await Db.SortedSetRangeByRankAsync(_keys.UserTokens(user));
                var reads = hashes.Select(h => (Hash: (string)h!, Entries: Db.HashGetAllAsync(_keys.Token((string)h!)))).ToList();
                await Task.WhenAll(reads.Select(r => r.Entries));
                IReadOnlyList<TokenRecord> tokens = [.. reads.Select(r => Read(r.Hash, r.Entries.Result)).OfType<TokenRecord>().Where(t => t.User == user)];
                return tokens;
            },
            timeProvider,
            cancellationToken);

    public Task AddVmsAsync(string hash, IReadOnlyCollection<string> vms, CancellationToken cancellationToken)
        => vms.Count == 0
            ? Task.CompletedTask
            : connection.GuardAsync(
                () => Db.ScriptEvaluateAsync(
                    "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('SADD', KEYS[2], unpack(ARGV)) end return 0",
                    [_keys.Token(hash), _keys.TokenVms(hash)],
                    [.. vms.Select(v => (RedisValue)v)]),
                timeProvider,
                cancellationToken);

    public Task<IReadOnlyList<string>> GetVmsAsync(string hash, CancellationToken cancellationToken)
        => connection.GuardAsync<IReadOnlyList<string>>(
            async () => [.. (await Db.SetMembersAsync(_keys.TokenVms(hash))).Select(v => (string)v!).Order(StringComparer.Ordinal)],
            timeProvider,
            cancellationToken);

    public Task RemoveVmsAsync(string hash, IReadOnlyCollection<string> vms, CancellationToken cancellationToken)
        => vms.Count == 0
            ? Task.CompletedTask
            : connection.GuardAsync(() => Db.SetRemoveAsync(_keys.TokenVms(hash), [.. vms.Select(v => (RedisValue)v)]), timeProvider, cancellationToken);

    private static TokenRecord? Read(string hash, HashEntry[] entries)
    {
        if (entries.Length == 0)
        {
            return null;
        }

        var fields = entries.ToStringDictionary();
        return new TokenRecord(
            hash,
            fields.GetValueOrDefault("user", ""),
            fields.GetValueOrDefault("hint", ""),
            VmTime.Parse(fields.GetValueOrDefault("created")) ?? DateTimeOffset.UnixEpoch,
            VmTime.Parse(fields.GetValueOrDefault("last")));
    }
}

/// <summary>Pool overrides as Redis hashes, one per kind, plus a set of requested resets.</summary>
public sealed class RedisPoolOverrideStore(RedisConnection connection, TimeProvider timeProvider) : IPoolOverrideStore
{
    private static string KindKey(PoolOverrideKind kind) => kind.ToString().ToLowerInvariant();

    public Task<PoolOverrides> GetAsync(CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var kinds = Enum.GetValues<PoolOverrideKind>();
                var reads = kinds.Select(k => connection.Database.HashGetAllAsync(connection.Keys.Overrides(KindKey(k)))).ToArray();
                await Task.WhenAll(reads);
                var values = new Dictionary<PoolOverrideKind, IReadOnlyDictionary<string, string>>();
                for (var i = 0; i < kinds.Length; i++)
                {
                    values[kinds[i]] = reads[i].Result.ToStringDictionary();
                }

                return new PoolOverrides(values);
            },
            timeProvider,
            cancellationToken);

    public Task SetAsync(PoolOverrideKind kind, string pool, string? value, CancellationToken cancellationToken)
        => connection.GuardAsync(
            () => value is null
                ? connection.Database.HashDeleteAsync(connection.Keys.Overrides(KindKey(kind)), pool)
                : connection.Database.HashSetAsync(connection.Keys.Overrides(KindKey(kind)), pool, value),
            timeProvider,
            cancellationToken);

    public Task RequestResetAsync(string pool, CancellationToken cancellationToken)
        => connection.GuardAsync(() => connection.Database.SetAddAsync(connection.Keys.PoolResets, pool), timeProvider, cancellationToken);

    public Task<IReadOnlyList<string>> TakeResetsAsync(Func<string, bool> owned, CancellationToken cancellationToken)
        => connection.GuardAsync<IReadOnlyList<string>>(
            async () =>
            {
                var taken = new List<string>();
                foreach (var member in await connection.Database.SetMembersAsync(connection.Keys.PoolResets))
                {
                    // SREM answers true to one caller only, so a request is taken once.
                    var pool = (string)member!;
                    if (owned(pool) && await connection.Database.SetRemoveAsync(connection.Keys.PoolResets, pool))
                    {
                        taken.Add(pool);
                    }
                }

                return taken;
            },
            timeProvider,
            cancellationToken);
}
