using System.Globalization;
using StackExchange.Redis;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;

namespace VmPooler.Redis;

/// <summary>
/// On-demand requests in Redis, all on the <c>{ondemand}</c> slot: a hash per request, a set of delivered VMs per entry,
/// and a sorted set of pending ids. Deliveries and status changes are scripts conditional on the status.
/// </summary>
public sealed class RedisOnDemandStore(RedisConnection connection, TimeProvider timeProvider) : IOnDemandStore
{
    private const string CreateScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], unpack(ARGV, 2))
        redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
        return 1
        """;

    // KEYS: request, vms set. ARGV: vm.
    private const string DeliverScript = """
        if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
        redis.call('SADD', KEYS[2], ARGV[1])
        return 1
        """;

    // KEYS: request, pending zset, then every vms set. ARGV: id, from, to, keep ms, reason.
    private const string StatusScript = """
        if redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] then return 0 end
        redis.call('HSET', KEYS[1], 'status', ARGV[3])
        if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'failure_reason', ARGV[5]) end
        redis.call('ZREM', KEYS[2], ARGV[1])
        for i = 1, #KEYS do
          if i ~= 2 then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
        end
        return 1
        """;

    // KEYS: request. ARGV: error, permanent (1/0).
    private const string FailureScript = """
        if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
        redis.call('HINCRBY', KEYS[1], 'retry_count', 1)
        redis.call('HSET', KEYS[1], 'last_error', ARGV[1])
        if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'permanent_error', '1') end
        return 1
        """;

    private readonly RedisKeys _keys = connection.Keys;

    private IDatabase Db => connection.Database;

    public Task<bool> CreateAsync(OnDemandRequest request, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var args = new List<RedisValue>
                {
                    request.Created.ToUnixTimeMilliseconds(),
                    "id", request.Id,
                    "requested", OnDemandRequest.FormatEntries(request.Entries),
                    "status", "pending",
                    "created", VmTime.Format(request.Created),
                };
                if (request.TokenHash is not null)
                {
                    args.AddRange(["token:token", request.TokenHash, "token:user", request.User ?? ""]);
                }

                return (int)await Db.ScriptEvaluateAsync(CreateScript, [_keys.OnDemand(request.Id), _keys.OnDemandPending], [.. args]) == 1;
            },
            timeProvider,
            cancellationToken);

    public Task<OnDemandRequest?> GetAsync(string id, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var entries = await Db.HashGetAllAsync(_keys.OnDemand(id));
                if (entries.Length == 0)
                {
                    return null;
                }

                var fields = entries.ToStringDictionary();
                var requested = OnDemandRequest.ParseEntries(fields.GetValueOrDefault("requested"));
                var delivered = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
                foreach (var entry in requested.DistinctBy(e => e.Key))
                {
                    var vms = await Db.SetMembersAsync(_keys.OnDemandVms(id, entry.Key));
                    delivered[entry.Key] = [.. vms.Select(v => (string)v!).Order(StringComparer.Ordinal)];
                }

                return new OnDemandRequest(
                    id,
                    requested,
                    Enum.TryParse<OnDemandStatus>(fields.GetValueOrDefault("status"), ignoreCase: true, out var status) ? status : OnDemandStatus.Pending,
                    VmTime.Parse(fields.GetValueOrDefault("created")) ?? DateTimeOffset.UnixEpoch,
                    fields.GetValueOrDefault("token:token"),
                    fields.GetValueOrDefault("token:user"),
                    fields.GetValueOrDefault("failure_reason"))
                {
                    Delivered = delivered,
                    RetryCount = int.TryParse(fields.GetValueOrDefault("retry_count"), CultureInfo.InvariantCulture, out var retries) ? retries : 0,
                    LastError = fields.GetValueOrDefault("last_error"),
                    PermanentError = fields.GetValueOrDefault("permanent_error") == "1",
                };
            },
            timeProvider,
            cancellationToken);

    public Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken)
        => connection.GuardAsync<IReadOnlyList<string>>(
            async () => [.. (await Db.SortedSetRangeByRankAsync(_keys.OnDemandPending)).Select(v => (string)v!)],
            timeProvider,
            cancellationToken);

    public Task<bool> DeliverAsync(string id, OnDemandEntry entry, string vm, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () => (int)await Db.ScriptEvaluateAsync(DeliverScript, [_keys.OnDemand(id), _keys.OnDemandVms(id, entry.Key)], [vm]) == 1,
            timeProvider,
            cancellationToken);

    public Task<bool> SetStatusAsync(string id, OnDemandStatus from, OnDemandStatus to, TimeSpan keepFor, string? reason, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var requested = await Db.HashGetAsync(_keys.OnDemand(id), "requested");
                var keys = new List<RedisKey> { _keys.OnDemand(id), _keys.OnDemandPending };
                keys.AddRange(OnDemandRequest.ParseEntries(requested).Select(e => e.Key).Distinct(StringComparer.Ordinal).Select(k => _keys.OnDemandVms(id, k)));
                var result = await Db.ScriptEvaluateAsync(
                    StatusScript,
                    [.. keys],
                    [id, Name(from), Name(to), (long)keepFor.TotalMilliseconds, reason ?? ""]);
                return (int)result == 1;
            },
            timeProvider,
            cancellationToken);

    public Task<bool> RecordFailureAsync(string id, string error, bool permanent, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () => (int)await Db.ScriptEvaluateAsync(FailureScript, [_keys.OnDemand(id)], [error, permanent ? "1" : "0"]) == 1,
            timeProvider,
            cancellationToken);

    private static string Name(OnDemandStatus status) => status.ToString().ToLowerInvariant();
}
