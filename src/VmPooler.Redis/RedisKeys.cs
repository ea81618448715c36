using StackExchange.Redis;

namespace VmPooler.Redis;

/// <summary>
/// Key naming. Every key of one pool carries that pool's hash tag (<c>&lt;prefix&gt;:{&lt;pool&gt;}:ready</c>), so each
/// per-pool script touches one slot and runs on a Redis Cluster as on a single server. Global keys have tags of their
/// own (<c>{index}</c>, <c>{stats}</c>, <c>{manager}</c>, <c>{managers}</c>). The prefix lets several installations (or tests) share a server.
/// </summary>
public sealed class RedisKeys(string prefix)
{
    public string Prefix { get; } = prefix;

    /// <summary>The per-pool keys in the order the scripts expect them (see Scripts/_prelude.lua).</summary>
    public RedisKey[] Pool(string pool)
    {
        var tag = PoolTag(pool);
        return
        [
            tag + "pending",
            tag + "ready",
            tag + "running",
            tag + "completed",
            tag + "readyseq",
            tag + "forgotten",
        ];
    }

    /// <summary>The prefix of a pool's VM hashes; a VM's hash is this plus its name.</summary>
    public string VmPrefix(string pool) => PoolTag(pool) + "vm:";

    public RedisKey Vm(string pool, string vm) => VmPrefix(pool) + vm;

    /// <summary>VM name → pool, so a VM is found from its hostname alone.</summary>
    public RedisKey Index => $"{Prefix}:{{index}}:vms";

    /// <summary>Names whose metadata expires, scored by expiry (ms), so index entries are dropped with them.</summary>
    public RedisKey Expiring => $"{Prefix}:{{index}}:expiring";

    public RedisKey Durations(string kind, DateOnly day) => $"{Prefix}:{{stats}}:{kind}:{day:yyyy-MM-dd}";

    public RedisKey LastBoot => $"{Prefix}:{{stats}}:lastboot";

    public RedisKey Tags(DateOnly day) => $"{Prefix}:{{stats}}:tag:{day:yyyy-MM-dd}";

    public RedisKey ManagerLease => $"{Prefix}:{{manager}}:lease";

    /// <summary>A pool's manager lease (the owning manager's id, expiring by PX), on the pool's slot.</summary>
    public RedisKey PoolLease(string pool) => PoolTag(pool) + "lease";

    /// <summary>The prefix of a manager's registration key; the key is this plus the manager's id.</summary>
    public string ManagerPrefix => $"{Prefix}:{{managers}}:manager:";

    /// <summary>A manager's registration (JSON, expiring by PX).</summary>
    public RedisKey Manager(string id) => ManagerPrefix + id;

    /// <summary>The ids of registered managers (pruned on read of ids whose registration has expired).</summary>
    public RedisKey ManagerIds => $"{Prefix}:{{managers}}:ids";

    /// <summary>Pub/sub channel on which managers announce registrations, unregistrations and released leases.</summary>
    public RedisChannel ManagerChanges => new($"{Prefix}:managers:changes", RedisChannel.PatternMode.Literal);

    /// <summary>A token's hash (user, hint, created, last); the key holds the token's SHA-256, never the token.</summary>
    public RedisKey Token(string hash) => $"{Prefix}:{{tokens}}:{hash}";

    /// <summary>The VMs checked out with a token.</summary>
    public RedisKey TokenVms(string hash) => $"{Prefix}:{{tokens}}:{hash}:vms";

    /// <summary>A user's token hashes, scored by creation time (ms).</summary>
    public RedisKey UserTokens(string user) => $"{Prefix}:{{tokens}}:user:{user}";

    /// <summary>A pool's list of disk/snapshot/revert tasks, on the pool's slot; taken by the pool's owner.</summary>
    public RedisKey PoolTasks(string pool) => PoolTag(pool) + "tasks";

    /// <summary>The pools whose task list may be non-empty (added after a push, removed before a take).</summary>
    public RedisKey TaskPools => $"{Prefix}:{{tasks}}:pools";

    /// <summary>The one task list of earlier versions (every pool's tasks, without their pool); routed to the pools' lists.</summary>
    public RedisKey UnroutedTasks => $"{Prefix}:{{tasks}}:queue";

    /// <summary>Pool overrides of one kind (pool → value).</summary>
    public RedisKey Overrides(string kind) => $"{Prefix}:{{config}}:{kind}";

    /// <summary>Pools whose reset was requested.</summary>
    public RedisKey PoolResets => $"{Prefix}:{{config}}:poolreset";

    /// <summary>An on-demand request's hash (requested, status, created, token fields, failure reason).</summary>
    public RedisKey OnDemand(string id) => $"{Prefix}:{{ondemand}}:{id}";

    /// <summary>The VMs delivered to one entry of a request.</summary>
    public RedisKey OnDemandVms(string id, string entryKey) => $"{Prefix}:{{ondemand}}:{id}:vms:{entryKey}";

    /// <summary>Pending request ids scored by creation time (ms).</summary>
    public RedisKey OnDemandPending => $"{Prefix}:{{ondemand}}:pending";

    /// <summary>Pub/sub channel on which checkouts and returns announce their pool.</summary>
    public RedisChannel Events => new($"{Prefix}:events", RedisChannel.PatternMode.Literal);

    private string PoolTag(string pool) => $"{Prefix}:{{{pool}}}:";
}
