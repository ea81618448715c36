using System.Globalization;

namespace VmPooler.Core.Configuration;

/// <summary>
/// Applies the environment variables of spec §5.3 onto a configuration tree (see <see cref="YamlTree"/>) before
/// it is typed. Values are written as the strings the typed mapping reads, so an override looks exactly like the
/// same value written in the file. A variable that is unset or empty is ignored; numeric variables whose value
/// does not parse are ignored (as in vmpooler). Booleans are parsed properly ("true"/"false", any case), unlike
/// vmpooler, which stores the raw string so that "false" enables the feature (quirk Q13).
/// </summary>
internal static class EnvironmentOverrides
{
    /// <summary>Environment variable holding the whole YAML document.</summary>
    public const string ConfigVariable = "VMPOOLER_CONFIG";

    /// <summary>Environment variable naming the configuration file.</summary>
    public const string ConfigFileVariable = "VMPOOLER_CONFIG_FILE";

    /// <summary>Environment variable listing extra configuration files (overrides <c>config.extra_config</c>).</summary>
    public const string ExtraConfigVariable = "EXTRA_CONFIG";

    /// <summary>Environment variable that enables debug behaviour, among it dummy authentication.</summary>
    public const string DebugVariable = "VMPOOLER_DEBUG";

    private static readonly (string Variable, string Key)[] ConfigIntegers =
    [
        ("TASK_LIMIT", "task_limit"),
        ("ONDEMAND_CLONE_LIMIT", "ondemand_clone_limit"),
        ("MAX_ONDEMAND_INSTANCES_PER_REQUEST", "max_ondemand_instances_per_request"),
        ("MIGRATION_LIMIT", "migration_limit"),
        ("VM_LIFETIME_AUTH", "vm_lifetime_auth"),
        ("MAX_LIFETIME_UPPER_LIMIT", "max_lifetime_upper_limit"),
        ("MAX_TRIES", "max_tries"),
        ("RETRY_FACTOR", "retry_factor"),
    ];

    // Durations: integers in vmpooler; decimals are accepted too because the typed model allows them.
    private static readonly (string Variable, string Key)[] ConfigNumbers =
    [
        ("VM_CHECKTIME", "vm_checktime"),
        ("VM_LIFETIME", "vm_lifetime"),
        ("READY_TTL", "ready_ttl"),
        ("ONDEMAND_REQUEST_TTL", "ondemand_request_ttl"),
        ("TIMEOUT", "timeout"),
        ("TIMEOUT_NOTIFICATION", "timeout_notification"),
    ];

    private static readonly (string Variable, string Key)[] ConfigStrings =
    [
        ("PREFIX", "prefix"),
        ("LOGFILE", "logfile"),
        ("SITE_NAME", "site_name"),
        ("CLONE_TARGET", "clone_target"),
        (ExtraConfigVariable, "extra_config"),
        ("DOMAIN", "domain"),
    ];

    private static readonly (string Variable, string Key)[] ConfigBooleans =
    [
        ("EXPERIMENTAL_FEATURES", "experimental_features"),
        ("USAGE_STATS", "usage_stats"),
        ("REQUEST_LOGGER", "request_logger"),
        ("CREATE_TEMPLATE_DELTA_DISKS", "create_template_delta_disks"),
        ("CREATE_LINKED_CLONES", "create_linked_clones"),
    ];

    /// <summary>Applies every override found in <paramref name="environment"/> onto <paramref name="tree"/>.</summary>
    public static void Apply(Dictionary<string, object?> tree, IReadOnlyDictionary<string, string?> environment)
    {
        ApplyRedis(tree, environment);
        ApplyMetrics(tree, environment, "statsd", "STATSD");
        ApplyMetrics(tree, environment, "graphite", "GRAPHITE");
        ApplyConfig(tree, environment);
        ApplyAuth(tree, environment);
        ApplyTracing(tree, environment);
    }

    /// <summary>The value of <paramref name="variable"/>, or null when it is unset or empty.</summary>
    public static string? Get(IReadOnlyDictionary<string, string?> environment, string variable)
        => environment.TryGetValue(variable, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    /// <summary>"true"/"false" in any case (surrounding blanks ignored); null for anything else.</summary>
    public static bool? ParseBoolean(string value)
    {
        var trimmed = value.Trim();
        if (string.Equals(trimmed, "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return string.Equals(trimmed, "false", StringComparison.OrdinalIgnoreCase) ? false : null;
    }

    private static void ApplyRedis(Dictionary<string, object?> tree, IReadOnlyDictionary<string, string?> environment)
    {
        var server = Get(environment, "REDIS_SERVER");
        var redis = server is null ? ExistingSection(tree, "redis") : Section(tree, "redis");
        if (redis is null)
        {
            return;
        }

        SetString(redis, "server", server);
        SetString(redis, "password", Get(environment, "REDIS_PASSWORD"));
        SetString(redis, "key_prefix", Get(environment, "REDIS_KEY_PREFIX"));
        SetInteger(redis, "port", Get(environment, "REDIS_PORT"));
        SetNumber(redis, "data_ttl", Get(environment, "REDIS_DATA_TTL"));
        SetInteger(redis, "connection_pool_size", Get(environment, "REDIS_CONNECTION_POOL_SIZE"));
        SetNumber(redis, "connection_pool_timeout", Get(environment, "REDIS_CONNECTION_POOL_TIMEOUT"));
        SetInteger(redis, "reconnect_attempts", Get(environment, "REDIS_RECONNECT_ATTEMPTS"));
    }

    private static void ApplyMetrics(
        Dictionary<string, object?> tree, IReadOnlyDictionary<string, string?> environment, string section, string prefix)
    {
        var server = Get(environment, prefix + "_SERVER");
        var map = server is null ? ExistingSection(tree, section) : Section(tree, section);
        if (map is null)
        {
            return;
        }

        SetString(map, "server", server);
        SetString(map, "prefix", Get(environment, prefix + "_PREFIX"));
        SetInteger(map, "port", Get(environment, prefix + "_PORT"));
    }

    private static void ApplyConfig(Dictionary<string, object?> tree, IReadOnlyDictionary<string, string?> environment)
    {
        var values = new List<(string Key, string Value)>();
        foreach (var (variable, key) in ConfigIntegers)
        {
            if (Get(environment, variable) is { } raw && NormaliseInteger(raw) is { } value)
            {
                values.Add((key, value));
            }
        }

        foreach (var (variable, key) in ConfigNumbers)
        {
            if (Get(environment, variable) is { } raw && NormaliseNumber(raw) is { } value)
            {
                values.Add((key, value));
            }
        }

        foreach (var (variable, key) in ConfigStrings)
        {
            if (Get(environment, variable) is { } value)
            {
                values.Add((key, value));
            }
        }

        foreach (var (variable, key) in ConfigBooleans)
        {
            if (Get(environment, variable) is { } raw && ParseBoolean(raw) is { } value)
            {
                values.Add((key, BooleanText(value)));
            }
        }

        // PURGE_UNCONFIGURED_FOLDERS is the deprecated name of PURGE_UNCONFIGURED_RESOURCES.
        var purge = Get(environment, "PURGE_UNCONFIGURED_RESOURCES") ?? Get(environment, "PURGE_UNCONFIGURED_FOLDERS");
        if (purge is not null && ParseBoolean(purge) is { } purgeValue)
        {
            values.Add(("purge_unconfigured_resources", BooleanText(purgeValue)));
        }

        // vmpooler: CREATE_FOLDERS is true when it says "true" (any case), false for anything else.
        if (Get(environment, "CREATE_FOLDERS") is { } createFolders)
        {
            values.Add(("create_folders", BooleanText(ParseBoolean(createFolders) == true)));
        }

        if (values.Count == 0 || Section(tree, "config") is not { } config)
        {
            return;
        }

        foreach (var (key, value) in values)
        {
            config[key] = value;
        }
    }

    private static void ApplyAuth(Dictionary<string, object?> tree, IReadOnlyDictionary<string, string?> environment)
    {
        var provider = Get(environment, "AUTH_PROVIDER");
        var auth = provider is null ? ExistingSection(tree, "auth") : Section(tree, "auth");
        if (auth is null)
        {
            return;
        }

        SetString(auth, "provider", provider);
        var host = Get(environment, "LDAP_HOST");
        var port = Get(environment, "LDAP_PORT") is { } rawPort ? NormaliseInteger(rawPort) : null;
        var ldapBase = Get(environment, "LDAP_BASE");
        var userObject = Get(environment, "LDAP_USER_OBJECT");
        if ((host ?? port ?? ldapBase ?? userObject) is null
            || !(auth.TryGetValue("provider", out var configured) && configured is "ldap")
            || Section(auth, "ldap") is not { } ldap)
        {
            return;
        }

        SetString(ldap, "host", host);
        SetString(ldap, "port", port);
        SetString(ldap, "base", ldapBase);
        SetString(ldap, "user_object", userObject);
    }

    private static void ApplyTracing(Dictionary<string, object?> tree, IReadOnlyDictionary<string, string?> environment)
    {
        var enabled = Get(environment, "VMPOOLER_TRACING_ENABLED") is { } raw && ParseBoolean(raw) is { } value
            ? BooleanText(value)
            : null;
        var host = Get(environment, "VMPOOLER_TRACING_JAEGER_HOST");
        if ((enabled is null && host is null) || Section(tree, "tracing") is not { } tracing)
        {
            return;
        }

        SetString(tracing, "enabled", enabled);
        SetString(tracing, "jaeger_host", host);
    }

    /// <summary>The mapping under <paramref name="key"/>, created when absent or null; null when it holds something else.</summary>
    private static Dictionary<string, object?>? Section(Dictionary<string, object?> parent, string key)
    {
        if (!parent.TryGetValue(key, out var value) || value is null)
        {
            var created = new Dictionary<string, object?>(StringComparer.Ordinal);
            parent[key] = created;
            return created;
        }

        return value as Dictionary<string, object?>;
    }

    private static Dictionary<string, object?>? ExistingSection(Dictionary<string, object?> parent, string key)
        => parent.TryGetValue(key, out var value) ? value as Dictionary<string, object?> : null;

    private static void SetString(Dictionary<string, object?> map, string key, string? value)
    {
        if (value is not null)
        {
            map[key] = value;
        }
    }

    private static void SetInteger(Dictionary<string, object?> map, string key, string? raw)
    {
        if (raw is not null && NormaliseInteger(raw) is { } value)
        {
            map[key] = value;
        }
    }

    private static void SetNumber(Dictionary<string, object?> map, string key, string? raw)
    {
        if (raw is not null && NormaliseNumber(raw) is { } value)
        {
            map[key] = value;
        }
    }

    private static string? NormaliseInteger(string raw)
        => long.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value.ToString(CultureInfo.InvariantCulture)
            : null;

    private static string? NormaliseNumber(string raw)
        => double.TryParse(raw.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value.ToString("R", CultureInfo.InvariantCulture)
            : null;

    private static string BooleanText(bool value) => value ? "true" : "false";
}
