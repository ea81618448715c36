namespace VmPooler.Redis;

/// <summary>
/// The least a Redis ACL user needs to run vmpooler (API and manager): its keys and its pub/sub channel under
/// <c>key_prefix</c>, and only the commands the client and the scripts send. docs/configuration.md shows it; the ACL
/// test runs the whole inventory contract suite as a user with exactly these rules.
/// </summary>
internal static class RedisAcl
{
    /// <summary>Commands the client sends on connecting and for pub/sub, transactions and durability.</summary>
    public static readonly IReadOnlyList<string> ClientCommands =
    [
        "ping", "echo", "info", "client|setname", "client|id", "cluster|nodes", "cluster|slots", "subscribe", "unsubscribe", "publish",
        "multi", "exec", "discard", "eval", "evalsha", "script|load", "wait",
    ];

    /// <summary>Data commands, sent directly or from the Lua scripts (ACLs apply inside scripts too).</summary>
    public static readonly IReadOnlyList<string> DataCommands =
    [
        "get", "set", "setex", "del", "exists", "incr", "pexpire", "persist",
        "hget", "hset", "hmset", "hsetnx", "hdel", "hexists", "hgetall", "hmget", "hincrby",
        "sadd", "srem", "smembers", "scard",
        "zadd", "zrem", "zrange", "zrangebyscore", "zremrangebyscore", "zremrangebyrank", "zcard",
        "rpush", "lpop", "llen",
    ];

    /// <summary>
    /// The rules of the user, after <c>ACL SETUSER &lt;name&gt; on &gt;&lt;password&gt;</c>: keys and channels under the
    /// prefix, no command beyond the lists above.
    /// </summary>
    public static string Rules(string keyPrefix)
        => $"resetkeys ~{keyPrefix}:* resetchannels &{keyPrefix}:* -@all "
            + string.Join(" ", ClientCommands.Concat(DataCommands).Select(c => "+" + c));
}
