using VmPooler.Core.Configuration;

namespace VmPooler.Tests.Configuration;

/// <summary>The 3.8/3.9 operational options (spec §4.10) and the warnings for recognised-but-unimplemented keys (issue 14).</summary>
public class OperationsConfigTests
{
    private static VmPoolerOptions Load(string yaml) => ConfigLoader.LoadYaml(yaml, new Dictionary<string, string?>(), "test.yaml");

    [Fact]
    public void Operations_NothingSet_UpstreamDefaults()
    {
        var ops = Load(":pools:\n  - name: a\n    size: 1\n").Operations;

        ops.DlqEnabled.ShouldBeFalse();
        ops.DlqTtl.ShouldBe(TimeSpan.FromHours(168));
        ops.DlqMaxEntries.ShouldBe(10_000);
        ops.CircuitBreakerEnabled.ShouldBeTrue();
        ops.CircuitBreakerFailureThreshold.ShouldBe(5);
        ops.CircuitBreakerTimeout.ShouldBe(TimeSpan.FromSeconds(30));
        ops.CircuitBreakerHalfOpenAttempts.ShouldBe(3);
        ops.HealthCheckEnabled.ShouldBeFalse();
        ops.HealthThresholds.DlqMaxCritical.ShouldBe(1000);
        ops.PurgeEnabled.ShouldBeFalse();
        ops.MaxPendingAge.ShouldBe(TimeSpan.FromSeconds(7200));
        ops.MaxDestroyedRecordsPerPool.ShouldBe(1000);
    }

    [Fact]
    public void Operations_AllSet_Typed()
    {
        var ops = Load("""
            :config:
              dlq_enabled: true
              dlq_ttl: 2
              dlq_max_entries: 50
              circuit_breaker_failure_threshold: 2
              circuit_breaker_timeout: 1.5
              health_check_enabled: true
              health_check_interval: 10
              health_thresholds:
                dlq_max_warning: 3
                stuck_vm_age_threshold: 60
              purge_enabled: true
              purge_dry_run: true
              max_completed_age: 90
              max_destroyed_records_per_pool: 25
            :pools:
              - name: a
                size: 1
            """).Operations;

        ops.DlqEnabled.ShouldBeTrue();
        ops.DlqTtl.ShouldBe(TimeSpan.FromHours(2));
        ops.DlqMaxEntries.ShouldBe(50);
        ops.CircuitBreakerFailureThreshold.ShouldBe(2);
        ops.CircuitBreakerTimeout.ShouldBe(TimeSpan.FromSeconds(1.5));
        ops.HealthCheckInterval.ShouldBe(TimeSpan.FromSeconds(10));
        ops.HealthThresholds.DlqMaxWarning.ShouldBe(3);
        ops.HealthThresholds.StuckVmAge.ShouldBe(TimeSpan.FromSeconds(60));
        ops.HealthThresholds.PendingQueueMax.ShouldBe(100);
        ops.PurgeDryRun.ShouldBeTrue();
        ops.MaxCompletedAge.ShouldBe(TimeSpan.FromSeconds(90));
        ops.MaxDestroyedRecordsPerPool.ShouldBe(25);
    }

    [Fact]
    public void Operations_BadValues_EachNamedAsAnError()
    {
        var error = Should.Throw<ConfigException>(() => Load("""
            :config:
              dlq_enabled: maybe
              dlq_max_entries: 0
              circuit_breaker_timeout: -1
              max_destroyed_records_per_pool: none
              health_thresholds:
                pending_queue_max: lots
            :pools:
              - name: a
                size: 1
            """));

        error.Errors.Count.ShouldBe(5);
        error.Errors.ShouldContain(e => e.StartsWith("config.dlq_enabled:", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("config.dlq_max_entries:", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("config.circuit_breaker_timeout:", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("config.health_thresholds.pending_queue_max:", StringComparison.Ordinal));
        error.Errors.ShouldContain("config.max_destroyed_records_per_pool: must be an integer ≥ 1 (got \"none\")");
    }

    [Fact]
    public void Warnings_UnimplementedUpstreamKeys_EachNamed()
    {
        var options = Load("""
            :config:
              logfile: /var/log/vmpooler.log
              migration_limit: 5
              connection_pool_monitor_enabled: true
              dlq_enabled: true
            :providers:
              :dummy:
                filename: /tmp/dummy.yaml
                skip_dns_check_before_creating_vm: true
            :redis:
              server: localhost
              reconnect_attempts: 3
            :pools:
              - name: a
                size: 1
                check_hostname_for_mismatch: false
            """);

        options.Warnings.Select(w => w[..w.IndexOf(':', StringComparison.Ordinal)]).ShouldBe(
        [
            "config.logfile", "config.migration_limit", "config.connection_pool_monitor_enabled",
            "pools[0].check_hostname_for_mismatch",
            "providers.dummy.skip_dns_check_before_creating_vm", "providers.dummy.filename",
            "redis.reconnect_attempts",
        ]);
        options.Warnings.ShouldAllBe(w => w.Contains("not implemented"));
    }

    [Fact]
    public void Warnings_ConnectionPoolKeys_WarnedForEveryClassButVSphere()
    {
        var options = ConfigLoader.LoadYaml("""
            :providers:
              :vc:
                provider_class: vsphere
                connection_pool_size: 3
              :other:
                provider_class: stub
                connection_pool_size: 3
            :pools:
              - name: a
                size: 1
                template: t/a
                provider: vc
              - name: b
                size: 1
                template: t/b
                provider: other
            """, new Dictionary<string, string?>(), "test.yaml", providers: new StubProviderFactory(["vsphere", "stub"]));

        options.Warnings.ShouldHaveSingleItem().ShouldStartWith("providers.other.connection_pool_size:");
    }

    [Fact]
    public void Warnings_ImplementedKeysOnly_None()
        => Load(":config:\n  dlq_enabled: true\n  circuit_breaker_enabled: false\n:pools:\n  - name: a\n    size: 1\n").Warnings.ShouldBeEmpty();
}
