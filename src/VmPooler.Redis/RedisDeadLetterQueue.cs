using System.Globalization;
using StackExchange.Redis;
using VmPooler.Core.Configuration;
using VmPooler.Core.Operations;

namespace VmPooler.Redis;

/// <summary>
/// The dead-letter queue in Redis, upstream's layout (spec §3.4) under our per-pool hash tag: one sorted set per pool and
/// queue, <c>&lt;prefix&gt;:{&lt;pool&gt;}:dlq:&lt;queue&gt;</c> (queue = clone, pending, ready, purge), members
/// <c>&lt;vm&gt;:&lt;epoch seconds&gt;:&lt;json&gt;</c> scored by failure time (ms). Every write is one script on the pool's
/// slot that adds, drops entries older than <c>dlq_ttl</c>, keeps the newest <c>dlq_max_entries</c> and sets the key to
/// expire after <c>dlq_ttl</c>.
/// </summary>
internal sealed class RedisDeadLetterQueue(RedisConnection connection, OperationsOptions options, TimeProvider timeProvider) : IDeadLetterQueue
{
    private const string AddScript = """
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
        local n = redis.call('ZCARD', KEYS[1])
        local max = tonumber(ARGV[4])
        if n > max then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1) end
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        return n
        """;

    /// <summary>The members of a VM (by their <c>&lt;vm&gt;:</c> prefix) in the pool's queues; one script on the pool's slot.</summary>
    private const string FindScript = """
        local out = {}
        for _, key in ipairs(KEYS) do
          for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, ARGV[1], '+inf')) do
            if string.sub(m, 1, #ARGV[2]) == ARGV[2] then table.insert(out, m) end
          end
        end
        return out
        """;

    private IDatabase Db => connection.Database;

    public bool Enabled => options.DlqEnabled;

    /// <summary>The sorted set of one pool's entries of one kind.</summary>
    public RedisKey Key(string pool, DeadLetterKind kind) => $"{connection.Keys.Prefix}:{{{pool}}}:dlq:{DeadLetterKinds.Name(kind)}";

    public Task AddAsync(DeadLetterEntry entry, CancellationToken cancellationToken)
    {
        if (!options.DlqEnabled)
        {
            return Task.CompletedTask;
        }

        var bounded = entry.Bounded();
        var member = string.Create(CultureInfo.InvariantCulture, $"{bounded.Vm}:{bounded.Time.ToUnixTimeSeconds()}:{bounded.ToJsonString()}");
        RedisValue[] args =
        [
            bounded.Time.ToUnixTimeMilliseconds(),
            member,
            Cutoff(),
            options.DlqMaxEntries,
            (long)options.DlqTtl.TotalMilliseconds,
        ];
        return connection.GuardAsync(() => Db.ScriptEvaluateAsync(AddScript, [Key(entry.Pool, entry.Kind)], args), timeProvider, cancellationToken);
    }

    public Task<DeadLetterPage> ListAsync(IReadOnlyCollection<string> pools, int offset, int limit, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var cutoff = Cutoff();
                var keys = pools.SelectMany(p => DeadLetterKinds.All.Select(k => Key(p, k))).ToList();
                var take = (long)offset + limit;
                var pages = await Task.WhenAll(keys.Select(k => Db.SortedSetRangeByScoreAsync(k, cutoff, double.PositiveInfinity, Exclude.None, Order.Descending, 0, take)));
                var totals = await Task.WhenAll(keys.Select(k => Db.SortedSetLengthAsync(k, cutoff, double.PositiveInfinity)));
                var entries = pages.SelectMany(p => p).Select(Parse).OfType<DeadLetterEntry>().OrderByDescending(e => e.Time).Skip(offset).Take(limit).ToList();
                return new DeadLetterPage(entries, (int)Math.Min(int.MaxValue, totals.Sum()));
            },
            timeProvider,
            cancellationToken);

    public Task<DeadLetterEntry?> FindAsync(string pool, string vm, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var keys = DeadLetterKinds.All.Select(k => Key(pool, k)).ToArray();
                var found = (RedisValue[]?)await Db.ScriptEvaluateAsync(FindScript, keys, [Cutoff(), vm + ":"]) ?? [];
                return found.Select(Parse).OfType<DeadLetterEntry>().Where(e => e.Vm == vm).MaxBy(e => e.Time);
            },
            timeProvider,
            cancellationToken);

    public Task<IReadOnlyDictionary<string, int>> CountAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var cutoff = Cutoff();
                var counts = await Task.WhenAll(pools.Select(async p =>
                    (Pool: p, Count: (await Task.WhenAll(DeadLetterKinds.All.Select(k => Db.SortedSetLengthAsync(Key(p, k), cutoff, double.PositiveInfinity)))).Sum())));
                return (IReadOnlyDictionary<string, int>)counts.ToDictionary(c => c.Pool, c => (int)c.Count, StringComparer.Ordinal);
            },
            timeProvider,
            cancellationToken);

    private double Cutoff() => (timeProvider.GetUtcNow() - options.DlqTtl).ToUnixTimeMilliseconds();

    /// <summary>A member is <c>&lt;vm&gt;:&lt;epoch&gt;:&lt;json&gt;</c>; the JSON starts at the first '{'.</summary>
    private static DeadLetterEntry? Parse(RedisValue member)
    {
        var text = (string?)member;
        var brace = text?.IndexOf('{', StringComparison.Ordinal) ?? -1;
        return brace < 0 ? null : DeadLetterEntry.FromJson(text![brace..]);
    }
}
