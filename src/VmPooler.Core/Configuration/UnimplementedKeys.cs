namespace VmPooler.Core.Configuration;

/// <summary>
/// Settings of the original vmpooler that this version recognises but does not implement (issue 14, "configuration
/// honesty"): each one the user wrote becomes a warning naming its key and what happens instead, logged at start-up
/// and listed by <c>--check-config</c>. Keys nobody knows are not listed (plugins read their own).
/// </summary>
internal static class UnimplementedKeys
{
    private static readonly (string Key, string Reason)[] Config =
    [
        ("logfile", "logs always go to standard output"),
        ("migration_limit", "VMs are not migrated at checkout"),
        ("create_template_delta_disks", "templates are not given delta disks"),
        ("max_tries", "provider connection retries are not configurable"),
        ("retry_factor", "provider connection retries are not configurable"),
        ("check_ready_vm_hostname_for_mismatch", "a ready VM's reported hostname is not compared with its name"),
        ("connection_pool_monitor_enabled", "there is no provider connection-pool monitor (circuit breakers are in /status)"),
        ("connection_pool_monitor_interval", "there is no provider connection-pool monitor (circuit breakers are in /status)"),
    ];

    private static readonly (string Key, string Reason)[] Pool =
    [
        ("check_hostname_for_mismatch", "a ready VM's reported hostname is not compared with its name"),
    ];

    private static readonly (string Key, string Reason)[] Provider =
    [
        ("skip_dns_check_before_creating_vm", "DNS is not checked before a clone"),
    ];

    /// <summary>Keys only the vSphere provider reads; other classes ignore them.</summary>
    private static readonly (string Key, string Reason)[] NonVSphereProvider =
    [
        ("connection_pool_size", "only the vSphere provider pools connections"),
        ("connection_pool_timeout", "only the vSphere provider pools connections"),
        ("filename", "the dummy provider keeps its VMs in memory or in state_dir"),
        ("migratevm_couldmove_percent", "VMs are not migrated"),
        ("migratevm_max_time", "VMs are not migrated"),
        ("migratevm_fail_percent", "VMs are not migrated"),
    ];

    private static readonly (string Key, string Reason)[] Redis =
    [
        ("connection_pool_size", "one multiplexed connection per process serves every request"),
        ("connection_pool_timeout", "one multiplexed connection per process serves every request"),
        ("reconnect_attempts", "the connection reconnects by itself, without a limit"),
    ];

    private static readonly (string Key, string Reason)[] Tracing =
    [
        ("jaeger_host", "spans go over OTLP (tracing.otlp_endpoint); Jaeger accepts OTLP on port 4318"),
    ];

    /// <summary>One warning per recognised-but-unimplemented key present in <paramref name="tree"/>, in file order.</summary>
    public static IReadOnlyList<string> Find(IReadOnlyDictionary<string, object?> tree)
    {
        var warnings = new List<string>();
        Check(Section(tree, "config"), "config", Config, warnings);
        if (tree.TryGetValue("pools", out var pools) && pools is IReadOnlyList<object?> list)
        {
            for (var i = 0; i < list.Count; i++)
            {
                Check(list[i] as IReadOnlyDictionary<string, object?>, ConfigReader.Item("pools", i), Pool, warnings);
            }
        }

        if (Section(tree, "providers") is { } providers)
        {
            foreach (var (name, value) in providers)
            {
                var section = value as IReadOnlyDictionary<string, object?>;
                var path = ConfigReader.Child("providers", name);
                Check(section, path, Provider, warnings);
                var providerClass = section is not null && section.TryGetValue("provider_class", out var c) && c is string s ? s : name;
                if (!providerClass.Equals("vsphere", StringComparison.OrdinalIgnoreCase))
                {
                    Check(section, path, NonVSphereProvider, warnings);
                }
            }
        }

        Check(Section(tree, "redis"), "redis", Redis, warnings);
        Check(Section(tree, "tracing"), "tracing", Tracing, warnings);
        return warnings;
    }

    private static IReadOnlyDictionary<string, object?>? Section(IReadOnlyDictionary<string, object?> tree, string key)
        => tree.TryGetValue(key, out var value) ? value as IReadOnlyDictionary<string, object?> : null;

    private static void Check(IReadOnlyDictionary<string, object?>? section, string path, (string Key, string Reason)[] keys, List<string> warnings)
    {
        if (section is null)
        {
            return;
        }

        foreach (var (key, reason) in keys)
        {
            if (section.TryGetValue(key, out var value) && value is not null)
            {
                warnings.Add($"{ConfigReader.Child(path, key)}: recognised from vmpooler but not implemented here, so it has no effect ({reason})");
            }
        }
    }
}
