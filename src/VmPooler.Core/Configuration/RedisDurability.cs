namespace VmPooler.Core.Configuration;

/// <summary><c>redis.durability</c>: when a state change counts as done.</summary>
public enum RedisDurability
{
    /// <summary>Once the primary has it (replication is asynchronous: a failover may lose it).</summary>
    None,

    /// <summary>Once a replica has it too (<c>WAIT 1 &lt;durability_timeout&gt;</c> after each state change).</summary>
    Replica,
}
