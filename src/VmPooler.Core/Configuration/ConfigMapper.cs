using System.Globalization;
using System.Text.RegularExpressions;
using VmPooler.Core.Providers;

namespace VmPooler.Core.Configuration;

/// <summary>
/// Maps a merged, overridden configuration tree (see <see cref="YamlTree"/>) onto <see cref="VmPoolerOptions"/>:
/// types every known option, fills defaults and validates, collecting every problem (spec §5, STYLE "Options and
/// configuration"). Use one instance per load; check <see cref="Errors"/> after <see cref="Map"/>.
/// </summary>
internal sealed partial class ConfigMapper
{
    private const string DummyClass = "dummy";

    /// <summary>Sections kept only in <see cref="VmPoolerOptions.Raw"/>; they must still be mappings.</summary>
    private static readonly string[] UntypedSections = ["graphs", "rate_limits"];

    /// <summary>Boolean <c>:config:</c> options other components read from <see cref="VmPoolerOptions.Raw"/>.</summary>
    private static readonly string[] UntypedFlags =
        ["create_linked_clones", "create_folders", "create_template_delta_disks", "purge_unconfigured_resources"];

    private readonly ConfigReader _reader = new();
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly IVmProviderFactory? _factory;

    public ConfigMapper(IReadOnlyDictionary<string, string?> environment, IVmProviderFactory? factory)
    {
        _environment = environment;
        _factory = factory;
    }

    /// <summary>Every problem found by <see cref="Map"/>, each starting with its key path.</summary>
    public IReadOnlyList<string> Errors => _reader.Errors;

    /// <summary>Types and validates <paramref name="tree"/>; the result is only meaningful when <see cref="Errors"/> is empty.</summary>
    public VmPoolerOptions Map(Dictionary<string, object?> tree, string source)
    {
        var rawConfig = _reader.ReadMapping(tree, "config", "config");
        var global = MapGlobal(rawConfig);
        var dnsConfigs = MapDnsConfigs(_reader.ReadMapping(tree, "dns_configs", "dns_configs"));
        var providers = MapProviders(_reader.ReadMapping(tree, "providers", "providers"));
        var pools = MapPools(tree, global, providers, dnsConfigs);
        ValidateProviders(providers, pools, rawConfig, global);
        var redis = MapRedis(_reader.ReadMapping(tree, "redis", "redis"));
        var auth = MapAuth(_reader.ReadMapping(tree, "auth", "auth"));
        var tagFilter = MapTagFilter(_reader.ReadMapping(tree, "tagfilter", "tagfilter"));
        var metrics = MapMetrics(tree);
        var operations = MapOperations(rawConfig);
        foreach (var section in UntypedSections)
        {
            _ = _reader.ReadMapping(tree, section, section);
        }

        return new VmPoolerOptions
        {
            Config = global,
            Pools = pools.ConvertAll(entry => entry.Pool),
            Providers = providers,
            DnsConfigs = dnsConfigs,
            Redis = redis,
            Auth = auth,
            TagFilter = tagFilter,
            Metrics = metrics,
            Operations = operations,
            Warnings = UnimplementedKeys.Find(tree),
            Raw = tree,
            Source = source,
        };
    }

    private GlobalOptions MapGlobal(Dictionary<string, object?>? config)
    {
        if (config is null)
        {
            return new GlobalOptions();
        }

        if (config.TryGetValue("domain", out var domain) && domain is not null)
        {
            _reader.Error("config.domain", "removed in vmpooler 3.0; use dns_configs and dns_plugin per pool");
        }

        // Options without a typed property are still checked, so a typo in their value is caught at start-up.
        _ = _reader.ReadInt(config, "migration_limit", "config.migration_limit", 0);
        foreach (var flag in UntypedFlags)
        {
            _ = _reader.ReadBool(config, flag, "config." + flag);
        }

        var (min, max, decay) = NormaliseLoopDelay(
            _reader.ReadDuration(config, "check_loop_delay_min", "config.check_loop_delay_min", DurationUnit.Seconds, NumberRule.Positive)
                ?? GlobalOptions.DefaultCheckLoopDelayMin,
            _reader.ReadDuration(config, "check_loop_delay_max", "config.check_loop_delay_max", DurationUnit.Seconds, NumberRule.Positive)
                ?? GlobalOptions.DefaultCheckLoopDelayMax,
            _reader.ReadNumber(config, "check_loop_delay_decay", "config.check_loop_delay_decay", NumberRule.Any)
                ?? GlobalOptions.DefaultCheckLoopDelayDecay);

        return new GlobalOptions
        {
            SiteName = _reader.ReadString(config, "site_name", "config.site_name") ?? GlobalOptions.DefaultSiteName,
            Prefix = _reader.ReadString(config, "prefix", "config.prefix") ?? "",
            LogFile = _reader.ReadString(config, "logfile", "config.logfile"),
            TaskLimit = _reader.ReadInt(config, "task_limit", "config.task_limit", 1) ?? GlobalOptions.DefaultTaskLimit,
            Timeout = _reader.ReadDuration(config, "timeout", "config.timeout", DurationUnit.Minutes, NumberRule.Positive)
                ?? GlobalOptions.DefaultTimeout,
            TimeoutNotification = _reader.ReadDuration(config, "timeout_notification", "config.timeout_notification", DurationUnit.Minutes, NumberRule.NonNegative)
                ?? GlobalOptions.DefaultTimeoutNotification,
            VmCheckTime = _reader.ReadDuration(config, "vm_checktime", "config.vm_checktime", DurationUnit.Minutes, NumberRule.Positive)
                ?? GlobalOptions.DefaultVmCheckTime,
            VmLifetime = _reader.ReadDuration(config, "vm_lifetime", "config.vm_lifetime", DurationUnit.Hours, NumberRule.Positive)
                ?? GlobalOptions.DefaultVmLifetime,
            VmLifetimeAuthHours = _reader.ReadInt(config, "vm_lifetime_auth", "config.vm_lifetime_auth", 1),
            MaxLifetimeUpperLimitHours = _reader.ReadInt(config, "max_lifetime_upper_limit", "config.max_lifetime_upper_limit", 1),
            ReadyTtl = _reader.ReadDuration(config, "ready_ttl", "config.ready_ttl", DurationUnit.Minutes, NumberRule.Positive)
                ?? GlobalOptions.DefaultReadyTtl,
            AllowedTags = _reader.ReadStringList(config, "allowed_tags", "config.allowed_tags"),
            CloneTarget = _reader.ReadString(config, "clone_target", "config.clone_target"),
            BackendWeight = MapBackendWeight(_reader.ReadMapping(config, "backend_weight", "config.backend_weight")),
            ExperimentalFeatures = _reader.ReadBool(config, "experimental_features", "config.experimental_features") ?? false,
            UsageStats = _reader.ReadBool(config, "usage_stats", "config.usage_stats") ?? false,
            RequestLogger = _reader.ReadBool(config, "request_logger", "config.request_logger") ?? false,
            CheckLoopDelayMin = min,
            CheckLoopDelayMax = max,
            CheckLoopDelayDecay = decay,
            ProviderTimeout = _reader.ReadDuration(config, "provider_timeout", "config.provider_timeout", DurationUnit.Seconds, NumberRule.Positive)
                ?? GlobalOptions.DefaultProviderTimeout,
            MaxVmRetries = _reader.ReadInt(config, "max_vm_retries", "config.max_vm_retries", 0) ?? 3,
            OnDemandCloneLimit = _reader.ReadInt(config, "ondemand_clone_limit", "config.ondemand_clone_limit", 1)
                ?? GlobalOptions.DefaultOnDemandCloneLimit,
            MaxOnDemandInstancesPerRequest = _reader.ReadInt(config, "max_ondemand_instances_per_request", "config.max_ondemand_instances_per_request", 1)
                ?? GlobalOptions.DefaultMaxOnDemandInstancesPerRequest,
            OnDemandRequestTtl = _reader.ReadDuration(config, "ondemand_request_ttl", "config.ondemand_request_ttl", DurationUnit.Minutes, NumberRule.Positive)
                ?? GlobalOptions.DefaultOnDemandRequestTtl,
            OwnerOnly = _reader.ReadBool(config, "owner_only", "config.owner_only") ?? false,
            RateLimitingEnabled = _reader.ReadBool(config, "rate_limiting_enabled", "config.rate_limiting_enabled") ?? false,
            ManagerLeaseTtl = MapManagerLeaseTtl(config),
        };
    }

    /// <summary><c>manager_lease_ttl</c>: seconds, at least <see cref="GlobalOptions.MinimumManagerLeaseTtl"/> and at most an hour.</summary>
    private TimeSpan MapManagerLeaseTtl(Dictionary<string, object?> config)
    {
        const string Path = "config.manager_lease_ttl";
        var seconds = _reader.ReadNumber(config, "manager_lease_ttl", Path, NumberRule.Positive);
        if (seconds is null)
        {
            return GlobalOptions.DefaultManagerLeaseTtl;
        }

        var minimum = GlobalOptions.MinimumManagerLeaseTtl.TotalSeconds;
        var maximum = GlobalOptions.MaximumManagerLeaseTtl.TotalSeconds;
        if (seconds < minimum || seconds > maximum)
        {
            _reader.Error(Path, string.Create(CultureInfo.InvariantCulture, $"must be between {minimum} and {maximum} seconds (got {seconds})"));
            return GlobalOptions.DefaultManagerLeaseTtl;
        }

        // Rounded to the nearest tick, as every other duration (FromSeconds of 3.002 is a tick short).
        return TimeSpan.FromTicks((long)Math.Round(seconds.Value * TimeSpan.TicksPerSecond));
    }

    /// <summary>Spec §4.2: a decay ≤ 1.0 is replaced by 2.0; a max below min is raised to min.</summary>
    private static (TimeSpan Min, TimeSpan Max, double Decay) NormaliseLoopDelay(TimeSpan min, TimeSpan max, double decay)
        => (min, max < min ? min : max, decay <= 1.0 ? GlobalOptions.DefaultCheckLoopDelayDecay : decay);

    private Dictionary<string, double> MapBackendWeight(Dictionary<string, object?>? section)
    {
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        if (section is null)
        {
            return weights;
        }

        foreach (var target in section.Keys)
        {
            if (_reader.ReadNumber(section, target, "config.backend_weight." + target, NumberRule.NonNegative) is { } weight)
            {
                weights[target] = weight;
            }
        }

        return weights;
    }

    private Dictionary<string, DnsConfigOptions> MapDnsConfigs(Dictionary<string, object?>? section)
    {
        var result = new Dictionary<string, DnsConfigOptions>(StringComparer.Ordinal);
        if (section is null)
        {
            return result;
        }

        foreach (var (name, value) in section)
        {
            var path = ConfigReader.Child("dns_configs", name);
            if (value is not null && _reader.AsMapping(value, path) is null)
            {
                continue;
            }

            var settings = value as Dictionary<string, object?> ?? new Dictionary<string, object?>(StringComparer.Ordinal);
            result[name] = new DnsConfigOptions
            {
                Name = name,
                DnsClass = _reader.ReadString(settings, "dns_class", path + ".dns_class") ?? "dynamic-dns",
                Domain = _reader.ReadString(settings, "domain", path + ".domain"),
                Settings = settings,
            };
        }

        return result;
    }

    private RedisOptions? MapRedis(Dictionary<string, object?>? redis)
    {
        if (redis is null)
        {
            return null;
        }

        var defaults = new RedisOptions();
        var server = _reader.ReadString(redis, "server", "redis.server");
        if (server is not null && string.IsNullOrWhiteSpace(server))
        {
            _reader.Error("redis.server", "must not be empty");
        }

        var keyPrefix = _reader.ReadString(redis, "key_prefix", "redis.key_prefix");
        if (keyPrefix is not null && string.IsNullOrWhiteSpace(keyPrefix))
        {
            _reader.Error("redis.key_prefix", "must not be empty");
        }

        var ssl = _reader.ReadBool(redis, "ssl", "redis.ssl") ?? false;
        var certFile = ReadRedisFile(redis, "ssl_cert_file", ssl);
        var keyFile = ReadRedisFile(redis, "ssl_key_file", ssl);
        if ((certFile is null) != (keyFile is null))
        {
            _reader.Error("redis.ssl_cert_file", "and redis.ssl_key_file go together (mutual TLS needs both)");
        }

        var sentinels = _reader.ReadStringList(redis, "sentinels", "redis.sentinels");
        var service = _reader.ReadString(redis, "sentinel_service", "redis.sentinel_service");
        if ((sentinels is { Count: > 0 }) != !string.IsNullOrWhiteSpace(service))
        {
            _reader.Error("redis.sentinels", "and redis.sentinel_service go together (the sentinels, and the master name they monitor)");
        }

        var operationTimeout = _reader.ReadDuration(redis, "operation_timeout", "redis.operation_timeout", DurationUnit.Seconds, NumberRule.Positive)
            ?? defaults.OperationTimeout;
        var durabilityTimeout = _reader.ReadDuration(redis, "durability_timeout", "redis.durability_timeout", DurationUnit.Seconds, NumberRule.Positive)
            ?? (operationTimeout / 2 < defaults.DurabilityTimeout ? operationTimeout / 2 : defaults.DurabilityTimeout);
        if (durabilityTimeout >= operationTimeout)
        {
            _reader.Error("redis.durability_timeout", $"must be below redis.operation_timeout ({operationTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s)");
        }

        return new RedisOptions
        {
            Server = string.IsNullOrWhiteSpace(server) ? defaults.Server : server,
            Port = _reader.ReadInt(redis, "port", "redis.port", 1, 65535) ?? defaults.Port,
            Password = _reader.ReadString(redis, "password", "redis.password"),
            Username = _reader.ReadString(redis, "username", "redis.username"),
            DataTtl = _reader.ReadDuration(redis, "data_ttl", "redis.data_ttl", DurationUnit.Hours, NumberRule.Positive) ?? defaults.DataTtl,
            ConnectionPoolSize = _reader.ReadInt(redis, "connection_pool_size", "redis.connection_pool_size", 1)
                ?? defaults.ConnectionPoolSize,
            ConnectionPoolTimeout = _reader.ReadDuration(redis, "connection_pool_timeout", "redis.connection_pool_timeout", DurationUnit.Seconds, NumberRule.Positive)
                ?? defaults.ConnectionPoolTimeout,
            ReconnectAttempts = _reader.ReadInt(redis, "reconnect_attempts", "redis.reconnect_attempts", 0) ?? defaults.ReconnectAttempts,
            KeyPrefix = string.IsNullOrWhiteSpace(keyPrefix) ? defaults.KeyPrefix : keyPrefix,
            OperationTimeout = operationTimeout,
            Ssl = ssl,
            SslCaFile = ReadRedisFile(redis, "ssl_ca_file", ssl),
            SslCertFile = certFile,
            SslKeyFile = keyFile,
            SslHost = _reader.ReadString(redis, "ssl_host", "redis.ssl_host"),
            Sentinels = sentinels ?? [],
            SentinelService = service,
            Durability = ReadDurability(redis),
            DurabilityTimeout = durabilityTimeout,
        };
    }

    /// <summary>A TLS file key of <c>:redis:</c>: only with <c>ssl: true</c>.</summary>
    private string? ReadRedisFile(Dictionary<string, object?> redis, string key, bool ssl)
    {
        var file = _reader.ReadString(redis, key, "redis." + key);
        if (file is not null && !ssl)
        {
            _reader.Error("redis." + key, "needs redis.ssl: true");
        }

        return file;
    }

    private RedisDurability ReadDurability(Dictionary<string, object?> redis)
    {
        switch (_reader.ReadString(redis, "durability", "redis.durability"))
        {
            case null or "none":
                return RedisDurability.None;
            case "replica":
                return RedisDurability.Replica;
            case var other:
                _reader.Error("redis.durability", "must be \"none\" or \"replica\" (got " + ConfigReader.Describe(other) + ")");
                return RedisDurability.None;
        }
    }

    private AuthOptions? MapAuth(Dictionary<string, object?>? auth)
    {
        if (auth is null)
        {
            return null;
        }

        var provider = _reader.ReadString(auth, "provider", "auth.provider");
        switch (provider)
        {
            case null when !HasValue(auth, "provider"):
                _reader.Error("auth.provider", "is required (\"dummy\" or \"ldap\")");
                break;
            case DummyClass:
                if (EnvironmentOverrides.Get(_environment, EnvironmentOverrides.DebugVariable) is null)
                {
                    _reader.Error("auth.provider", "dummy authentication requires VMPOOLER_DEBUG");
                }

                break;
            case "ldap":
                ValidateLdap(auth);
                break;
            case not null:
                _reader.Error("auth.provider", "must be \"dummy\" or \"ldap\" (got " + ConfigReader.Describe(provider) + ")");
                break;
        }

        return new AuthOptions { Provider = provider ?? DummyClass, Settings = auth };
    }

    private void ValidateLdap(Dictionary<string, object?> auth)
    {
        var ldap = _reader.ReadMapping(auth, "ldap", "auth.ldap");
        if (ldap is null)
        {
            if (!HasValue(auth, "ldap"))
            {
                _reader.Error("auth.ldap", "is required when auth.provider is \"ldap\"");
            }

            return;
        }

        if (_reader.ReadString(ldap, "host", "auth.ldap.host") is null && !HasValue(ldap, "host"))
        {
            _reader.Error("auth.ldap.host", "is required");
        }

        _ = _reader.ReadInt(ldap, "port", "auth.ldap.port", 1, 65535);
        _ = _reader.ReadNumber(ldap, "timeout", "auth.ldap.timeout", NumberRule.Positive);

        // Without a base or a user_object no DN can be built: the original fails at the first login; fail at startup.
        var bases = _reader.ReadStringList(ldap, "base", "auth.ldap.base");
        if (bases is null ? !HasValue(ldap, "base") : !bases.Any(b => !string.IsNullOrWhiteSpace(b)))
        {
            _reader.Error("auth.ldap.base", "is required (one DN, or several separated by spaces or as a list)");
        }

        var userObjects = _reader.ReadStringList(ldap, "user_object", "auth.ldap.user_object");
        if (userObjects is null ? !HasValue(ldap, "user_object") : !userObjects.Any(u => !string.IsNullOrWhiteSpace(u)))
        {
            _reader.Error("auth.ldap.user_object", "is required (e.g. uid)");
        }

        // user_object goes into DNs and filters unescaped (it is the attribute type), so it must be a plain attribute name.
        foreach (var userObject in userObjects?.SelectMany(u => u.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)) ?? [])
        {
            if (!LdapAttributeName().IsMatch(userObject))
            {
                _reader.Error("auth.ldap.user_object", "must be attribute names such as uid or cn (got " + ConfigReader.Describe(userObject) + ")");
            }
        }

        if (_reader.ReadMapping(ldap, "encryption", "auth.ldap.encryption") is { } encryption)
        {
            // Symbol values (:simple_tls) keep their colon in the tree.
            var method = _reader.ReadString(encryption, "method", "auth.ldap.encryption.method");
            if (method is not null && method.TrimStart(':') is not ("" or "simple_tls" or "start_tls"))
            {
                _reader.Error("auth.ldap.encryption.method", "must be simple_tls or start_tls (got " + ConfigReader.Describe(method) + ")");
            }
        }

        if (_reader.ReadMapping(ldap, "service_account_hash", "auth.ldap.service_account_hash") is { } account)
        {
            if (string.IsNullOrWhiteSpace(_reader.ReadString(account, "user_dn", "auth.ldap.service_account_hash.user_dn")))
            {
                _reader.Error("auth.ldap.service_account_hash.user_dn", "is required");
            }

            if (string.IsNullOrEmpty(_reader.ReadString(account, "password", "auth.ldap.service_account_hash.password")))
            {
                _reader.Error("auth.ldap.service_account_hash.password", "is required");
            }
        }
    }

    [GeneratedRegex("^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\\.[0-9]+)*)$", RegexOptions.CultureInvariant)]
    private static partial Regex LdapAttributeName();

    private Dictionary<string, Regex> MapTagFilter(Dictionary<string, object?>? section)
    {
        var result = new Dictionary<string, Regex>(StringComparer.Ordinal);
        if (section is null)
        {
            return result;
        }

        foreach (var name in section.Keys)
        {
            var path = ConfigReader.Child("tagfilter", name);
            if (_reader.ReadString(section, name, path) is not { } pattern)
            {
                continue;
            }

            try
            {
                result[name] = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException ex)
            {
                _reader.Error(path, "invalid regular expression " + ConfigReader.Describe(pattern) + ": " + ex.Message);
            }
        }

        return result;
    }

    private static bool HasValue(Dictionary<string, object?> map, string key)
        => map.TryGetValue(key, out var value) && value is not null;
}
