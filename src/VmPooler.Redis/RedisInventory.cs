using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Redis;

/// <summary>
/// The inventory in Redis, shared by any number of API processes and a manager. Every transition is one Lua script on
/// one pool's keys (one hash slot), so it is atomic on a single server and on a Redis Cluster alike; a VM is found from
/// its name through a name → pool index. Every operation is bounded by <c>redis.operation_timeout</c> (the client's own
/// timeout) and reports an unreachable Redis as <see cref="InventoryUnavailableException"/>, never by hanging. With
/// <c>redis.durability: replica</c> a state change is acknowledged only once a replica has it too.
/// </summary>
public sealed partial class RedisInventory : IInventory, IManagerLease
{
    private const string StateField = "_state";
    private const string PoolField = "_pool";
    private const string ExpiresField = "_expires";

    private static readonly string AddPendingScript = RedisConnection.LoadScript("add_pending", withPrelude: true);
    private static readonly string MoveScript = RedisConnection.LoadScript("move", withPrelude: true);
    private static readonly string ForgetScript = RedisConnection.LoadScript("forget", withPrelude: true);
    private static readonly string AdoptScript = RedisConnection.LoadScript("adopt", withPrelude: true);
    private static readonly string ImportScript = RedisConnection.LoadScript("import", withPrelude: true);
    private static readonly string UpdateScript = RedisConnection.LoadScript("update", withPrelude: true);
    private static readonly string SetFieldScript = RedisConnection.LoadScript("set_field", withPrelude: true);
    private static readonly string TakeScript = RedisConnection.LoadScript("take", withPrelude: true);
    private static readonly string RollbackScript = RedisConnection.LoadScript("rollback", withPrelude: true);
    private static readonly string TakeUndoScript = RedisConnection.LoadScript("take_undo", withPrelude: true);
    private static readonly string ReturnScript = RedisConnection.LoadScript("return", withPrelude: true);
    private static readonly string GetScript = RedisConnection.LoadScript("get", withPrelude: true);
    private static readonly string SnapshotScript = RedisConnection.LoadScript("snapshot", withPrelude: true);
    private static readonly string CountsScript = RedisConnection.LoadScript("counts", withPrelude: true);
    private static readonly string ReserveNameScript = RedisConnection.LoadScript("reserve_name", withPrelude: false);
    private static readonly string LeaseScript = RedisConnection.LoadScript("lease", withPrelude: false);
    private static readonly string ReleaseNamesScript = RedisConnection.LoadScript("release_names", withPrelude: false);
    private static readonly string RecordDurationsScript = RedisConnection.LoadScript("record_durations", withPrelude: false);

    private readonly RedisConnection _connection;
    private readonly RedisKeys _keys;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxForgottenPerPool;
    private readonly HandedOutPools _handedOut = new();

    /// <param name="connection">The shared connection.</param>
    /// <param name="timeProvider">The clock every expiry reads.</param>
    /// <param name="logger">Where failures go.</param>
    /// <param name="maxForgottenPerPool">
    /// The most records of forgotten VMs kept per pool (<c>max_destroyed_records_per_pool</c>): when one more is
    /// forgotten, the pool's oldest goes in the same script, and its name is released in the index.
    /// </param>
    public RedisInventory(
        RedisConnection connection,
        TimeProvider timeProvider,
        ILogger<RedisInventory> logger,
        int maxForgottenPerPool = OperationsOptions.DefaultMaxDestroyedRecordsPerPool)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxForgottenPerPool, 1);
        _connection = connection;
        _keys = connection.Keys;
        _time = timeProvider;
        _logger = logger;
        _maxForgottenPerPool = maxForgottenPerPool;
    }

    private IDatabase Db => _connection.Database;

    public Task<bool> AddPendingAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                if (!await ClaimNameAsync(vm, pool))
                {
                    return false;
                }

                var added = await PoolScriptAsync(AddPendingScript, pool, [vm, pool, .. Pairs(fields)]);
                if ((int)added == 1)
                {
                    return await ConfirmedAsync(true);
                }

                await Db.HashDeleteAsync(_keys.Index, vm);
                return false;
            },
            cancellationToken);

    public Task<bool> MoveAsync(
        string pool,
        string vm,
        VmState from,
        VmState to,
        IReadOnlyDictionary<string, string>? fields = null,
        IReadOnlyDictionary<string, string?>? expect = null,
        CancellationToken cancellationToken = default)
        => GuardAsync(
            async () =>
            {
                var args = new List<RedisValue> { vm, Name(from), Name(to), expect?.Count ?? 0 };
                foreach (var (field, value) in expect ?? new Dictionary<string, string?>())
                {
                    args.Add(field);
                    args.Add(value is null ? "0" : "1");
                    args.Add(value ?? "");
                }

                args.AddRange(Pairs(fields));
                return await ConfirmedAsync((int)await PoolScriptAsync(MoveScript, pool, [.. args]) == 1);
            },
            cancellationToken);

    public Task<bool> ForgetAsync(
        string pool,
        string vm,
        VmState from,
        TimeSpan? keepMetadataFor,
        IReadOnlyDictionary<string, string>? fields = null,
        CancellationToken cancellationToken = default)
        => GuardAsync(
            async () =>
            {
                var keep = keepMetadataFor is { } k && k > TimeSpan.Zero ? (long)k.TotalMilliseconds : 0;
                var result = (RedisValue[])(await PoolScriptAsync(ForgetScript, pool, [vm, Name(from), keep, _maxForgottenPerPool, .. Pairs(fields)]))!;
                if (result.Length == 0)
                {
                    return false;
                }

                // Index bookkeeping (another slot): the name is released when its metadata goes, and so are the names
                // of the records the script dropped to keep the pool within max_destroyed_records_per_pool.
                RedisValue[] released = keep > 0 ? [.. result.Skip(1)] : [.. result.Skip(1), vm];
                if (keep > 0 || released.Length > 0)
                {
                    await EvalAsync(ReleaseNamesScript, [_keys.Index, _keys.Expiring], [keep > 0 ? vm : "", NowMs() + keep, .. released]);
                }

                return await ConfirmedAsync(true);
            },
            cancellationToken);

    public Task<bool> AdoptDiscoveredAsync(string pool, string vm, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                if (await Db.HashGetAsync(_keys.Index, vm) is { IsNull: false } owner && owner != pool
                    && await VmFieldsAsync((string)owner!, vm) is { Count: > 0 })
                {
                    // The name belongs to a live VM of another pool.
                    return false;
                }

                if ((int)await PoolScriptAsync(AdoptScript, pool, [vm, pool, .. Pairs(fields)]) != 1)
                {
                    return false;
                }

                await Task.WhenAll(Db.HashSetAsync(_keys.Index, vm, pool), Db.SortedSetRemoveAsync(_keys.Expiring, vm));
                return await ConfirmedAsync(true);
            },
            cancellationToken);

    public Task<bool> ImportVmAsync(string pool, string vm, VmState state, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                if (!await ClaimNameAsync(vm, pool))
                {
                    return false;
                }

                if ((int)await PoolScriptAsync(ImportScript, pool, [vm, pool, Name(state), .. Pairs(fields)]) == 1)
                {
                    return true;
                }

                await Db.HashDeleteAsync(_keys.Index, vm);
                return false;
            },
            cancellationToken);

    public Task<int> SetFieldAsync(string pool, IReadOnlyCollection<string> vms, string field, string value, CancellationToken cancellationToken)
        => vms.Count == 0
            ? Task.FromResult(0)
            : GuardAsync(
                async () =>
                {
                    var set = (int)await PoolScriptAsync(SetFieldScript, pool, [field, value, .. vms.Select(v => (RedisValue)v)]);
                    await ConfirmedAsync(set > 0);
                    return set;
                },
                cancellationToken);

    public Task<bool> UpdateFieldsAsync(
        string vm,
        IReadOnlyDictionary<string, string> set,
        IReadOnlyCollection<string>? remove = null,
        CancellationToken cancellationToken = default)
        => GuardAsync(
            async () =>
            {
                if (await PoolOfAsync(vm) is not { } pool)
                {
                    return false;
                }

                var args = new List<RedisValue> { vm, remove?.Count ?? 0 };
                args.AddRange((remove ?? []).Select(r => (RedisValue)r));
                args.AddRange(Pairs(set));
                return await ConfirmedAsync((int)await PoolScriptAsync(UpdateScript, pool, [.. args]) == 1);
            },
            cancellationToken);

    public Task<CheckoutResult> CheckoutAsync(IReadOnlyList<CheckoutItem> items, CheckoutContext context, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var checkout = VmTime.Format(context.Now);
                var taken = new List<Taken>();
                try
                {
                    foreach (var group in Batches(items))
                    {
                        var wanted = group;
                        if (wanted[0].CandidatePools is [var onlyPool])
                        {
                            // One pool for the whole batch (Batches groups only such items): one script, all or nothing.
                            var got = await TakeAsync(onlyPool, wanted.Count, checkout, context);
                            if (got.Count == 0)
                            {
                                return await FailAsync(wanted[0].RequestedName);
                            }

                            taken.AddRange(got.Select(g => g with { Requested = wanted[0].RequestedName }));
                            continue;
                        }

                        foreach (var item in wanted)
                        {
                            Taken? found = null;
                            foreach (var pool in item.CandidatePools)
                            {
                                var got = await TakeAsync(pool, 1, checkout, context);
                                if (got.Count == 1)
                                {
                                    found = got[0] with { Requested = item.RequestedName };
                                    break;
                                }
                            }

                            if (found is null)
                            {
                                return await FailAsync(item.RequestedName);
                            }

                            taken.Add(found);
                        }
                    }
                }
                catch (Exception ex) when (ex is TimeoutException or RedisException)
                {
                    await RollbackAsync(taken, checkout);
                    throw;
                }

                if (!await _connection.ConfirmWritesAsync())
                {
                    // Not on a replica yet: a failover could bring these VMs back as ready and hand them out again.
                    await RollbackAsync(taken, checkout);
                    throw new InventoryUnavailableException(NotConfirmed + "; the checkout was undone");
                }

                foreach (var t in taken)
                {
                    _handedOut.Add(t.Vm, t.Pool);
                }

                foreach (var pool in taken.Select(t => t.Pool).Distinct(StringComparer.Ordinal))
                {
                    Publish(pool);
                }

                return new CheckoutResult([.. taken.Select(t => new Allocation(t.Requested, t.Pool, t.Vm))], null);

                async Task<CheckoutResult> FailAsync(string requested)
                {
                    await RollbackAsync(taken, checkout);
                    return CheckoutResult.Failed(requested);
                }
            },
            cancellationToken);

    private static List<List<CheckoutItem>> Batches(IReadOnlyList<CheckoutItem> items)
    {
        var batches = new List<List<CheckoutItem>>();
        foreach (var item in items)
        {
            if (batches.Count > 0 && batches[^1][0] is var head && head.RequestedName == item.RequestedName
                && head.CandidatePools.Count == 1 && item.CandidatePools.Count == 1 && head.CandidatePools[0] == item.CandidatePools[0])
            {
                batches[^1].Add(item);
            }
            else
            {
                batches.Add([item]);
            }
        }

        return batches;
    }

    /// <summary>
    /// Takes <paramref name="count"/> VMs from one pool. When the answer comes too late (the client gives up after
    /// <c>operation_timeout</c> and drops it), an undo goes out right behind the take on the same connection, so Redis
    /// runs it after the take and puts back whatever the take handed out.
    /// </summary>
    private async Task<List<Taken>> TakeAsync(string pool, int count, string checkout, CheckoutContext context)
    {
        try
        {
            return ParseTaken(
                pool,
                await PoolScriptAsync(
                    TakeScript,
                    pool,
                    [count, checkout, context.Token ?? "", context.User ?? "", context.Lifetime?.ToString(CultureInfo.InvariantCulture) ?? ""]));
        }
        catch (RedisTimeoutException)
        {
            _ = Db.ScriptEvaluateAsync(TakeUndoScript, _keys.Pool(pool), [_keys.VmPrefix(pool), NowMs(), checkout, context.Token ?? ""], CommandFlags.FireAndForget);
            throw;
        }
    }

    private static List<Taken> ParseTaken(string pool, RedisResult result)
    {
        var values = (RedisValue[])result!;
        var taken = new List<Taken>(values.Length / 6);
        for (var i = 0; i + 5 < values.Length; i += 6)
        {
            taken.Add(new Taken("", pool, values[i]!, (double)values[i + 1], [.. values.Skip(i + 2).Take(4).Select(v => (string?)v)]));
        }

        return taken;
    }

    private async Task RollbackAsync(List<Taken> taken, string checkout)
    {
        foreach (var byPool in taken.GroupBy(t => t.Pool, StringComparer.Ordinal))
        {
            var args = new List<RedisValue> { checkout };
            foreach (var t in byPool)
            {
                args.Add(t.Vm);
                args.Add(t.Score);
                foreach (var previous in t.Previous)
                {
                    args.Add(previous);
                }
            }

            try
            {
                await PoolScriptAsync(RollbackScript, byPool.Key, [.. args]);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogRollbackFailed(_logger, byPool.Key, string.Join(", ", byPool.Select(t => t.Vm)), ex.Message);
            }
        }
    }

    public Task<ReturnOutcome> ReturnAsync(string vm, CancellationToken cancellationToken)
        => GuardAsync(
            async () => await PoolOfAsync(vm) is { } pool
                ? await ReturnInPoolAsync(pool, vm)
                : new ReturnOutcome(ReturnStatus.UnknownVm, null),
            cancellationToken);

    /// <summary>
    /// Returns a VM just read with <see cref="GetVmAsync"/>: its record names its pool, so the name → pool index is not
    /// read a second time (one round trip less per return). A VM's pool never changes; if its name was forgotten and
    /// reused meanwhile, the script finds no live VM under the old pool and answers unknown.
    /// </summary>
    public Task<ReturnOutcome> ReturnAsync(VmRecord vm, CancellationToken cancellationToken)
        => GuardAsync(() => ReturnInPoolAsync(vm.Pool, vm.Name), cancellationToken);

    /// <summary>
    /// One script on the VM's pool: the pool this process handed the VM out from when it did (no name → pool lookup),
    /// else the index's. The script checks the VM is live in that pool; a name no longer there is looked up.
    /// </summary>
    public Task<ReturnOutcome> ReturnUnownedAsync(string vm, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var hinted = _handedOut.PoolOf(vm);
                if (hinted is not null && await ReturnInPoolAsync(hinted, vm, unownedOnly: true) is { Status: not ReturnStatus.UnknownVm } outcome)
                {
                    return outcome;
                }

                return await PoolOfAsync(vm) is { } pool && pool != hinted
                    ? await ReturnInPoolAsync(pool, vm, unownedOnly: true)
                    : new ReturnOutcome(ReturnStatus.UnknownVm, null);
            },
            cancellationToken);

    private async Task<ReturnOutcome> ReturnInPoolAsync(string pool, string vm, bool unownedOnly = false)
    {
        var outcome = (string?)await PoolScriptAsync(ReturnScript, pool, [vm, unownedOnly ? "1" : "0"]);
        if (outcome != "owned")
        {
            _handedOut.Remove(vm);
        }

        switch (outcome)
        {
            case "owned":
                return new ReturnOutcome(ReturnStatus.Owned, pool);
            case "returned":
                // Not confirmed by a replica: the return may be lost in a failover; the VM is then running again until
                // its lifetime ends (or it is returned once more), never handed out twice.
                await ConfirmedAsync(true);
                Publish(pool);
                return new ReturnOutcome(ReturnStatus.Returned, pool);
            case "not_running":
                return new ReturnOutcome(ReturnStatus.NotRunning, pool);
            default:
                return new ReturnOutcome(ReturnStatus.UnknownVm, null);
        }
    }

    /// <summary>
    /// The VM from the pool this process handed it out from when it did (no name → pool lookup; the script answers
    /// nothing for a name not live there), else from the index's pool.
    /// </summary>
    public Task<VmRecord?> GetVmAsync(string vm, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var hinted = _handedOut.PoolOf(vm);
                if (hinted is not null && await VmFieldsAsync(hinted, vm) is { Count: > 0 } found)
                {
                    return ToRecord(vm, hinted, found);
                }

                if (await PoolOfAsync(vm) is not { } pool || pool == hinted)
                {
                    return null;
                }

                var fields = await VmFieldsAsync(pool, vm);
                return fields.Count == 0 ? null : ToRecord(vm, pool, fields);
            },
            cancellationToken);

    public Task<PoolSnapshot> GetPoolAsync(string pool, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var parts = (RedisResult[])(await PoolScriptAsync(SnapshotScript, pool, []))!;
                return new PoolSnapshot(pool, Records(parts[0]), Records(parts[1]), Records(parts[2]), Records(parts[3]));

                List<VmRecord> Records(RedisResult part)
                {
                    var flat = (RedisResult[])part!;
                    var records = new List<VmRecord>(flat.Length / 2);
                    for (var i = 0; i + 1 < flat.Length; i += 2)
                    {
                        records.Add(ToRecord((string)flat[i]!, pool, ToDictionary((RedisValue[])flat[i + 1]!)));
                    }

                    return records;
                }
            },
            cancellationToken);

    public Task<PoolTally> GetTallyAsync(string pool, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var result = (RedisResult[])(await PoolScriptAsync(CountsScript, pool, ["completed"]))!;
                var c = result[..6].Select(r => (int)r).ToArray();
                return new PoolTally(new PoolCounts(c[0], c[1], c[2], c[3], c[4], c[5]), [.. result[6..].Select(r => (string)r!)]);
            },
            cancellationToken);

    public Task<IReadOnlyDictionary<string, PoolCounts>> GetCountsAsync(IReadOnlyCollection<string> pools, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var names = pools.ToList();
                var results = await Task.WhenAll(names.Select(p => PoolScriptAsync(CountsScript, p, [])));
                var counts = new Dictionary<string, PoolCounts>(names.Count, StringComparer.Ordinal);
                for (var i = 0; i < names.Count; i++)
                {
                    var c = (int[])results[i]!;
                    counts[names[i]] = new PoolCounts(c[0], c[1], c[2], c[3], c[4], c[5]);
                }

                return (IReadOnlyDictionary<string, PoolCounts>)counts;
            },
            cancellationToken);

    public Task RecordDurationAsync(DurationKind kind, string pool, string vm, double seconds, DateTimeOffset at, CancellationToken cancellationToken)
        => RecordDurationsAsync(pool, vm, at, [(kind, seconds)], cancellationToken);

    public Task RecordCloneAndBootAsync(string pool, string vm, double cloneSeconds, double bootSeconds, DateTimeOffset at, CancellationToken cancellationToken)
        => RecordDurationsAsync(pool, vm, at, [(DurationKind.Clone, cloneSeconds), (DurationKind.Boot, bootSeconds)], cancellationToken);

    /// <summary>One VM's durations under the day of <paramref name="at"/>, and the pool's last boot when one is a boot: one call.</summary>
    private Task RecordDurationsAsync(string pool, string vm, DateTimeOffset at, (DurationKind Kind, double Seconds)[] durations, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var day = DateOnly.FromDateTime(at.UtcDateTime);
                var booted = durations.Any(d => d.Kind == DurationKind.Boot) ? VmTime.Format(at) : "";
                await EvalAsync(
                    RecordDurationsScript,
                    [_keys.LastBoot, .. durations.Select(d => _keys.Durations(KindName(d.Kind), day))],
                    [$"{pool}:{vm}", pool, booted, .. durations.Select(d => (RedisValue)d.Seconds)]);
                return true;
            },
            cancellationToken);

    public Task<IReadOnlyDictionary<string, double>> GetDurationsAsync(DurationKind kind, DateOnly day, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var entries = await Db.HashGetAllAsync(_keys.Durations(KindName(kind), day));
                return (IReadOnlyDictionary<string, double>)entries.ToDictionary(e => (string)e.Name!, e => (double)e.Value, StringComparer.Ordinal);
            },
            cancellationToken);

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> GetLastBootAsync(CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var entries = await Db.HashGetAllAsync(_keys.LastBoot);
                var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
                foreach (var entry in entries)
                {
                    if (VmTime.Parse(entry.Value) is { } time)
                    {
                        result[entry.Name!] = time;
                    }
                }

                return (IReadOnlyDictionary<string, DateTimeOffset>)result;
            },
            cancellationToken);

    public Task RecordTagsAsync(string vm, IReadOnlyDictionary<string, string> tags, DateOnly day, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                await Db.HashSetAsync(_keys.Tags(day), [.. tags.Select(t => new HashEntry($"{vm}:{t.Key}", t.Value))]);
                return true;
            },
            cancellationToken);

    /// <summary>The tag index of one day (<c>vm:tag</c> → value).</summary>
    public Task<IReadOnlyDictionary<string, string>> GetTagsAsync(DateOnly day, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                var entries = await Db.HashGetAllAsync(_keys.Tags(day));
                return (IReadOnlyDictionary<string, string>)entries.ToStringDictionary();
            },
            cancellationToken);

    public IDisposable SubscribePoolChanges(Action<string> onPoolChanged)
    {
        Action<RedisChannel, RedisValue> handler = (_, pool) =>
        {
            if (!pool.IsNullOrEmpty)
            {
                onPoolChanged(pool!);
            }
        };
        var subscriber = _connection.Subscriber;
        _connection.Subscribe(_keys.Events, handler);

        return new Subscription(() =>
        {
            try
            {
                subscriber.Unsubscribe(_keys.Events, handler);
            }
            catch (RedisConnectionException)
            {
                // Not connected: the server holds no subscription to drop; the handler is gone from the client all the same.
            }
        });
    }

    public Task<bool> TryAcquireAsync(string holder, TimeSpan timeToLive, CancellationToken cancellationToken)
        => GuardAsync(
            async () => (int)await EvalAsync(LeaseScript, [_keys.ManagerLease], [holder, (long)timeToLive.TotalMilliseconds, "acquire"]) == 1,
            cancellationToken);

    public Task ReleaseAsync(string holder, CancellationToken cancellationToken)
        => GuardAsync(
            async () => (int)await EvalAsync(LeaseScript, [_keys.ManagerLease], [holder, 0, "release"]) == 1,
            cancellationToken);

    private void Publish(string pool)
    {
        if (_connection.IsConnected)
        {
            _connection.Subscriber.Publish(_keys.Events, pool, CommandFlags.FireAndForget);
        }
    }

    private async Task<bool> ClaimNameAsync(string vm, string pool)
        => (int)await EvalAsync(ReserveNameScript, [_keys.Index, _keys.Expiring], [vm, pool, NowMs()]) == 1;

    private async Task<string?> PoolOfAsync(string vm)
    {
        var pool = await Db.HashGetAsync(_keys.Index, vm);
        return pool.IsNullOrEmpty ? null : (string?)pool;
    }

    private async Task<Dictionary<string, string>> VmFieldsAsync(string pool, string vm)
        => ToDictionary((RedisValue[])(await PoolScriptAsync(GetScript, pool, [vm]))!);

    private Task<RedisResult> PoolScriptAsync(string script, string pool, RedisValue[] args)
        => EvalAsync(script, _keys.Pool(pool), [_keys.VmPrefix(pool), NowMs(), .. args]);

    /// <summary>Runs a script: the client sends its SHA1 once the server knows it, and the whole text again after a NOSCRIPT.</summary>
    private Task<RedisResult> EvalAsync(string script, RedisKey[] keys, RedisValue[] args)
        => Db.ScriptEvaluateAsync(script, keys, args);

    private const string NotConfirmed = "the inventory (Redis) is unavailable: no replica confirmed the change in time (redis.durability: replica)";

    /// <summary>With <c>durability: replica</c>, a change that happened counts only once a replica has it.</summary>
    private async Task<bool> ConfirmedAsync(bool changed)
    {
        if (changed && !await _connection.ConfirmWritesAsync())
        {
            throw new InventoryUnavailableException(NotConfirmed);
        }

        return changed;
    }

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static Dictionary<string, string> ToDictionary(RedisValue[] flat)
    {
        var fields = new Dictionary<string, string>(flat.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            fields[flat[i]!] = flat[i + 1]!;
        }

        return fields;
    }

    private static VmRecord ToRecord(string vm, string pool, Dictionary<string, string> fields)
    {
        VmState? state = fields.TryGetValue(StateField, out var s) ? Parse(s) : null;
        fields.Remove(StateField);
        fields.Remove(PoolField);
        fields.Remove(ExpiresField);
        return new VmRecord(vm, pool, state, fields);
    }

    private static IEnumerable<RedisValue> Pairs(IReadOnlyDictionary<string, string>? fields)
    {
        if (fields is null)
        {
            yield break;
        }

        foreach (var (field, value) in fields)
        {
            yield return field;
            yield return value;
        }
    }

    private static string Name(VmState state) => state switch
    {
        VmState.Pending => "pending",
        VmState.Ready => "ready",
        VmState.Running => "running",
        VmState.Completed => "completed",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    private static VmState? Parse(string state) => state switch
    {
        "pending" => VmState.Pending,
        "ready" => VmState.Ready,
        "running" => VmState.Running,
        "completed" => VmState.Completed,
        _ => null,
    };

    private static string KindName(DurationKind kind) => kind == DurationKind.Clone ? "clone" : "boot";

    /// <summary>
    /// Runs one inventory operation, turning every way Redis can fail — down, too slow, a cluster reconfiguring, a
    /// command the ACL denies — into <see cref="InventoryUnavailableException"/>.
    /// </summary>
    private Task<T> GuardAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
        => _connection.GuardAsync(operation, _time, cancellationToken);

    private sealed record Taken(string Requested, string Pool, string Vm, double Score, string?[] Previous);

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

    [LoggerMessage(3010, LogLevel.Error, "[redis] could not put back VMs of a failed checkout in {Pool}: {Vms}: {Error}")]
    private static partial void LogRollbackFailed(ILogger logger, string pool, string vms, string error);
}
