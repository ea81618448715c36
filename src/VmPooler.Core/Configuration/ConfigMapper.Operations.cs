namespace VmPooler.Core.Configuration;

/// <summary>The 3.8/3.9 operational options of <c>:config:</c> (spec §4.10) onto <see cref="OperationsOptions"/>.</summary>
internal sealed partial class ConfigMapper
{
    private OperationsOptions MapOperations(Dictionary<string, object?>? config)
    {
        var d = new OperationsOptions();
        if (config is null)
        {
            return d;
        }

        return new OperationsOptions
        {
            DlqEnabled = Bool(config, "dlq_enabled") ?? d.DlqEnabled,
            DlqTtl = Duration(config, "dlq_ttl", TimeSpan.FromHours(1)) ?? d.DlqTtl,
            DlqMaxEntries = _reader.ReadInt(config, "dlq_max_entries", "config.dlq_max_entries", 1) ?? d.DlqMaxEntries,
            HealthCheckEnabled = Bool(config, "health_check_enabled") ?? d.HealthCheckEnabled,
            HealthCheckInterval = Seconds(config, "health_check_interval") ?? d.HealthCheckInterval,
            HealthThresholds = MapHealthThresholds(_reader.ReadMapping(config, "health_thresholds", "config.health_thresholds")),
            HealthAffectsReadyz = Bool(config, "health_check_readyz") ?? d.HealthAffectsReadyz,
            CircuitBreakerEnabled = Bool(config, "circuit_breaker_enabled") ?? d.CircuitBreakerEnabled,
            CircuitBreakerFailureThreshold = _reader.ReadInt(config, "circuit_breaker_failure_threshold", "config.circuit_breaker_failure_threshold", 1)
                ?? d.CircuitBreakerFailureThreshold,
            CircuitBreakerTimeout = Seconds(config, "circuit_breaker_timeout") ?? d.CircuitBreakerTimeout,
            CircuitBreakerHalfOpenAttempts = _reader.ReadInt(config, "circuit_breaker_half_open_attempts", "config.circuit_breaker_half_open_attempts", 1)
                ?? d.CircuitBreakerHalfOpenAttempts,
            AdaptiveTimeoutEnabled = Bool(config, "adaptive_timeout_enabled") ?? d.AdaptiveTimeoutEnabled,
            AdaptiveTimeoutMin = Seconds(config, "connection_pool_timeout_min") ?? d.AdaptiveTimeoutMin,
            AdaptiveTimeoutMax = Seconds(config, "connection_pool_timeout_max") ?? d.AdaptiveTimeoutMax,
            AdaptiveTimeoutInitial = Seconds(config, "connection_pool_timeout_initial") ?? d.AdaptiveTimeoutInitial,
            PurgeEnabled = Bool(config, "purge_enabled") ?? d.PurgeEnabled,
            PurgeInterval = Seconds(config, "purge_interval") ?? d.PurgeInterval,
            PurgeDryRun = Bool(config, "purge_dry_run") ?? d.PurgeDryRun,
            MaxPendingAge = Seconds(config, "max_pending_age") ?? d.MaxPendingAge,
            MaxReadyAge = Seconds(config, "max_ready_age") ?? d.MaxReadyAge,
            MaxCompletedAge = Seconds(config, "max_completed_age") ?? d.MaxCompletedAge,
            MaxOrphanedAge = Seconds(config, "max_orphaned_age") ?? d.MaxOrphanedAge,
            MaxDestroyedRecordsPerPool = _reader.ReadInt(config, "max_destroyed_records_per_pool", "config.max_destroyed_records_per_pool", 1)
                ?? d.MaxDestroyedRecordsPerPool,
        };
    }

    private HealthThresholds MapHealthThresholds(Dictionary<string, object?>? section)
    {
        var d = new HealthThresholds();
        if (section is null)
        {
            return d;
        }

        int? Count(string key) => _reader.ReadInt(section, key, "config.health_thresholds." + key, 0);
        var stuckAge = _reader.ReadNumber(section, "stuck_vm_age_threshold", "config.health_thresholds.stuck_vm_age_threshold", NumberRule.Positive);
        return new HealthThresholds
        {
            PendingQueueMax = Count("pending_queue_max") ?? d.PendingQueueMax,
            ReadyQueueMax = Count("ready_queue_max") ?? d.ReadyQueueMax,
            DlqMaxWarning = Count("dlq_max_warning") ?? d.DlqMaxWarning,
            DlqMaxCritical = Count("dlq_max_critical") ?? d.DlqMaxCritical,
            StuckVmAge = stuckAge is { } s ? TimeSpan.FromSeconds(s) : d.StuckVmAge,
            StuckVmMaxWarning = Count("stuck_vm_max_warning") ?? d.StuckVmMaxWarning,
            StuckVmMaxCritical = Count("stuck_vm_max_critical") ?? d.StuckVmMaxCritical,
        };
    }

    private bool? Bool(Dictionary<string, object?> config, string key) => _reader.ReadBool(config, key, "config." + key);

    private TimeSpan? Seconds(Dictionary<string, object?> config, string key) => Duration(config, key, TimeSpan.FromSeconds(1));

    private TimeSpan? Duration(Dictionary<string, object?> config, string key, TimeSpan unit)
        => _reader.ReadNumber(config, key, "config." + key, NumberRule.Positive) is { } n ? unit * n : null;
}
