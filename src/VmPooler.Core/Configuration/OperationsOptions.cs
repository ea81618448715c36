namespace VmPooler.Core.Configuration;

/// <summary>
/// The operational features of vmpooler 3.8/3.9 (spec §4.10, §5.2 <c>:config:</c>): dead-letter queue, health
/// evaluation, provider circuit breakers with adaptive timeouts, purge, plus our cap on destroyed-VM history. Read from
/// <c>:config:</c> with upstream's key names and defaults.
/// </summary>
public sealed record OperationsOptions
{
    /// <summary>The default of <see cref="MaxDestroyedRecordsPerPool"/>.</summary>
    public const int DefaultMaxDestroyedRecordsPerPool = 1000;

    /// <summary><c>dlq_enabled</c>: record failed VMs in the dead-letter queue (default off, as upstream).</summary>
    public bool DlqEnabled { get; init; }

    /// <summary><c>dlq_ttl</c> (hours, default 168): entries older than this are dropped.</summary>
    public TimeSpan DlqTtl { get; init; } = TimeSpan.FromHours(168);

    /// <summary><c>dlq_max_entries</c> (default 10 000): the newest entries kept per queue.</summary>
    public int DlqMaxEntries { get; init; } = 10_000;

    /// <summary><c>health_check_enabled</c> (default off).</summary>
    public bool HealthCheckEnabled { get; init; }

    /// <summary><c>health_check_interval</c> (seconds, default 300).</summary>
    public TimeSpan HealthCheckInterval { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary><c>health_thresholds</c>.</summary>
    public HealthThresholds HealthThresholds { get; init; } = new();

    /// <summary><c>health_check_readyz</c> (extension, default false): <c>/readyz</c> answers 503 while unhealthy.</summary>
    public bool HealthAffectsReadyz { get; init; }

    /// <summary><c>circuit_breaker_enabled</c> (default on).</summary>
    public bool CircuitBreakerEnabled { get; init; } = true;

    /// <summary><c>circuit_breaker_failure_threshold</c> (default 5): consecutive failures that open the breaker.</summary>
    public int CircuitBreakerFailureThreshold { get; init; } = 5;

    /// <summary><c>circuit_breaker_timeout</c> (seconds, default 30): how long an open breaker fails calls fast.</summary>
    public TimeSpan CircuitBreakerTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>circuit_breaker_half_open_attempts</c> (default 3): successes in half-open that close it.</summary>
    public int CircuitBreakerHalfOpenAttempts { get; init; } = 3;

    /// <summary><c>adaptive_timeout_enabled</c> (default on).</summary>
    public bool AdaptiveTimeoutEnabled { get; init; } = true;

    /// <summary><c>connection_pool_timeout_min</c> (seconds, default 5).</summary>
    public TimeSpan AdaptiveTimeoutMin { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>connection_pool_timeout_max</c> (seconds, default 60).</summary>
    public TimeSpan AdaptiveTimeoutMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>connection_pool_timeout_initial</c> (seconds, default 30).</summary>
    public TimeSpan AdaptiveTimeoutInitial { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>purge_enabled</c> (default off).</summary>
    public bool PurgeEnabled { get; init; }

    /// <summary><c>purge_interval</c> (seconds, default 3600).</summary>
    public TimeSpan PurgeInterval { get; init; } = TimeSpan.FromSeconds(3600);

    /// <summary><c>purge_dry_run</c> (default false): log what would be purged, change nothing.</summary>
    public bool PurgeDryRun { get; init; }

    /// <summary><c>max_pending_age</c> (seconds, default 7200).</summary>
    public TimeSpan MaxPendingAge { get; init; } = TimeSpan.FromSeconds(7200);

    /// <summary><c>max_ready_age</c> (seconds, default 86 400).</summary>
    public TimeSpan MaxReadyAge { get; init; } = TimeSpan.FromSeconds(86_400);

    /// <summary><c>max_completed_age</c> (seconds, default 3600).</summary>
    public TimeSpan MaxCompletedAge { get; init; } = TimeSpan.FromSeconds(3600);

    /// <summary><c>max_orphaned_age</c> (seconds, default 86 400).</summary>
    public TimeSpan MaxOrphanedAge { get; init; } = TimeSpan.FromSeconds(86_400);

    /// <summary>
    /// <c>max_destroyed_records_per_pool</c> (extension, default 1000): the most records of destroyed (or failed) VMs an
    /// inventory keeps per pool, newest first, beside their age limit <c>redis.data_ttl</c>. Older ones are dropped at
    /// once, so a long churn keeps memory bounded; <c>GET /vm/&lt;host&gt;</c> of a dropped VM answers 404.
    /// </summary>
    public int MaxDestroyedRecordsPerPool { get; init; } = DefaultMaxDestroyedRecordsPerPool;
}
