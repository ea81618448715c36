using System.Text.RegularExpressions;

namespace VmPooler.Core.Configuration;

/// <summary>
/// The whole, validated configuration of one vmpooler installation: the typed model every component reads.
/// Built once by <see cref="ConfigLoader"/> from the vmpooler YAML format (spec §5) and never mutated.
/// </summary>
public sealed record VmPoolerOptions
{
    /// <summary>The <c>:config:</c> section.</summary>
    public GlobalOptions Config { get; init; } = new();

    /// <summary>The operational options of <c>:config:</c> (DLQ, health, circuit breakers, purge; spec §4.10).</summary>
    public OperationsOptions Operations { get; init; } = new();

    /// <summary>
    /// Settings the user wrote that vmpooler recognises from the original but does not implement, each naming its key
    /// (logged at start-up, listed by <c>--check-config</c>).
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The <c>:pools:</c> section, in configuration order.</summary>
    public IReadOnlyList<PoolOptions> Pools { get; init; } = [];

    /// <summary>The <c>:providers:</c> section: provider instance name → its settings.</summary>
    public IReadOnlyDictionary<string, ProviderOptions> Providers { get; init; } = new Dictionary<string, ProviderOptions>();

    /// <summary>The <c>:dns_configs:</c> section: dns config name → its settings.</summary>
    public IReadOnlyDictionary<string, DnsConfigOptions> DnsConfigs { get; init; } = new Dictionary<string, DnsConfigOptions>();

    /// <summary>The <c>:redis:</c> section, or null when Redis is not configured (the in-memory inventory is used).</summary>
    public RedisOptions? Redis { get; init; }

    /// <summary>The <c>:auth:</c> section, or null when authentication is not configured.</summary>
    public AuthOptions? Auth { get; init; }

    /// <summary>The <c>:tagfilter:</c> section: tag name → compiled regex (spec §5.2).</summary>
    public IReadOnlyDictionary<string, Regex> TagFilter { get; init; } = new Dictionary<string, Regex>();

    /// <summary>The metrics and tracing sections (<c>:statsd:</c>, <c>:graphite:</c>, <c>:prometheus:</c>, <c>:tracing:</c>).</summary>
    public MetricsOptions Metrics { get; init; } = new();

    /// <summary>
    /// The configuration after merging and environment overrides, before typing: plain keys (leading ':' removed),
    /// values as strings, lists and dictionaries. Used by <c>/full_config</c> (with secrets redacted).
    /// </summary>
    public IReadOnlyDictionary<string, object?> Raw { get; init; } = new Dictionary<string, object?>();

    /// <summary>Where the configuration came from, for the start-up log ("VMPOOLER_CONFIG", a file path, or "demo").</summary>
    public string Source { get; init; } = "";

    /// <summary>Looks a pool up by its exact name.</summary>
    public PoolOptions? FindPool(string name)
    {
        foreach (var pool in Pools)
        {
            if (string.Equals(pool.Name, name, StringComparison.Ordinal))
            {
                return pool;
            }
        }

        return null;
    }

    /// <summary>The domain of a pool: <c>dns_configs.&lt;pool.dns_plugin&gt;.domain</c>, or null when it has none.</summary>
    public string? DomainOf(PoolOptions pool)
        => pool.DnsPlugin is { } plugin && DnsConfigs.TryGetValue(plugin, out var dns) ? dns.Domain : null;
}

/// <summary>
/// The <c>:config:</c> section (spec §5.2). Durations are <see cref="TimeSpan"/>s; the file writes them as numbers in the
/// unit each key documents (minutes, hours or seconds, as the original does), converted by <see cref="ConfigReader.ReadDuration"/>.
/// </summary>
public sealed record GlobalOptions
{
    public const int DefaultTaskLimit = 10;
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan DefaultTimeoutNotification = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultVmCheckTime = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan DefaultVmLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan DefaultReadyTtl = TimeSpan.FromMinutes(60);
    public static readonly TimeSpan DefaultCheckLoopDelayMin = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultCheckLoopDelayMax = TimeSpan.FromSeconds(60);
    public const double DefaultCheckLoopDelayDecay = 2.0;
    public static readonly TimeSpan DefaultProviderTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultDataTtl = TimeSpan.FromHours(168);
    public const string DefaultSiteName = "<b>vmpooler</b>";

    /// <summary><c>site_name</c>: dashboard title. Default <c>&lt;b&gt;vmpooler&lt;/b&gt;</c>.</summary>
    public string SiteName { get; init; } = DefaultSiteName;

    /// <summary><c>prefix</c>: prepended to generated VM names. Default empty.</summary>
    public string Prefix { get; init; } = "";

    /// <summary><c>logfile</c>: accepted for compatibility; logs go to stdout.</summary>
    public string? LogFile { get; init; }

    /// <summary><c>task_limit</c>: concurrent pool-refill clones across all pools. Default 10.</summary>
    public int TaskLimit { get; init; } = DefaultTaskLimit;

    /// <summary><c>timeout</c> (minutes): a pending VM older than this is destroyed and replaced. Default 15.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary><c>timeout_notification</c> (minutes): warn once about a slow pending VM. Default 5.</summary>
    public TimeSpan TimeoutNotification { get; init; } = DefaultTimeoutNotification;

    /// <summary><c>vm_checktime</c> (minutes): minimum interval between health checks of a ready VM. Default 1.</summary>
    public TimeSpan VmCheckTime { get; init; } = DefaultVmCheckTime;

    /// <summary><c>vm_lifetime</c> (hours): default lifetime of a checked-out VM. Default 24.</summary>
    public TimeSpan VmLifetime { get; init; } = DefaultVmLifetime;

    /// <summary><c>vm_lifetime_auth</c> (hours): lifetime set at checkout when a valid token is sent. Default none.</summary>
    public int? VmLifetimeAuthHours { get; init; }

    /// <summary><c>max_lifetime_upper_limit</c> (hours): a PUT lifetime must be below this. Default none (unlimited).</summary>
    public int? MaxLifetimeUpperLimitHours { get; init; }

    /// <summary><c>ready_ttl</c> (minutes): a ready VM older than this is recycled. Default 60.</summary>
    public TimeSpan ReadyTtl { get; init; } = DefaultReadyTtl;

    /// <summary><c>allowed_tags</c>: when set, the only tag names PUT accepts.</summary>
    public IReadOnlyList<string>? AllowedTags { get; init; }

    /// <summary><c>clone_target</c>: default clone target (provider specific).</summary>
    public string? CloneTarget { get; init; }

    /// <summary><c>backend_weight</c>: clone target → weight, for choosing among alias targets.</summary>
    public IReadOnlyDictionary<string, double> BackendWeight { get; init; } = new Dictionary<string, double>();

    /// <summary><c>experimental_features</c>: enables the config and poolreset routes. Default false.</summary>
    public bool ExperimentalFeatures { get; init; }

    public const int DefaultOnDemandCloneLimit = 10;
    public const int DefaultMaxOnDemandInstancesPerRequest = 10;
    public static readonly TimeSpan DefaultOnDemandRequestTtl = TimeSpan.FromMinutes(5);

    /// <summary><c>ondemand_clone_limit</c>: on-demand clones running at once. Default 10.</summary>
    public int OnDemandCloneLimit { get; init; } = DefaultOnDemandCloneLimit;

    /// <summary><c>max_ondemand_instances_per_request</c>: the most VMs of one pool one request may ask for. Default 10.</summary>
    public int MaxOnDemandInstancesPerRequest { get; init; } = DefaultMaxOnDemandInstancesPerRequest;

    /// <summary><c>ondemand_request_ttl</c> (minutes): an on-demand request not complete by then fails. Default 5.</summary>
    public TimeSpan OnDemandRequestTtl { get; init; } = DefaultOnDemandRequestTtl;

    /// <summary>
    /// <c>owner_only</c> (ours, opt-in): a VM checked out with a token may be modified, snapshotted or returned only with a
    /// token of the same user (the original lets any valid token do it, which stays the default).
    /// </summary>
    public bool OwnerOnly { get; init; }

    /// <summary><c>rate_limiting_enabled</c>: per-client request limits (spec §2.9), limits from the top-level <c>:rate_limits:</c>.</summary>
    public bool RateLimitingEnabled { get; init; }

    /// <summary><c>usage_stats</c>. Default false.</summary>
    public bool UsageStats { get; init; }

    /// <summary><c>request_logger</c>: log every API request. Default false.</summary>
    public bool RequestLogger { get; init; }

    /// <summary><c>check_loop_delay_min</c> (seconds). Default 5.</summary>
    public TimeSpan CheckLoopDelayMin { get; init; } = DefaultCheckLoopDelayMin;

    /// <summary><c>check_loop_delay_max</c> (seconds). Default 60; raised to min when below it.</summary>
    public TimeSpan CheckLoopDelayMax { get; init; } = DefaultCheckLoopDelayMax;

    /// <summary><c>check_loop_delay_decay</c>. Default 2.0; values ≤ 1.0 are replaced by 2.0.</summary>
    public double CheckLoopDelayDecay { get; init; } = DefaultCheckLoopDelayDecay;

    /// <summary><c>provider_timeout</c> (seconds, our extension): the time limit of one provider call other than a clone. Default 60.</summary>
    public TimeSpan ProviderTimeout { get; init; } = DefaultProviderTimeout;

    /// <summary><c>max_vm_retries</c>: on-demand clone retries. Default 3.</summary>
    public int MaxVmRetries { get; init; } = 3;

    /// <summary>How long a manager's per-pool lease lasts without renewal (<c>manager_lease_ttl</c>, seconds; default 15, minimum 3).</summary>
    public TimeSpan ManagerLeaseTtl { get; init; } = DefaultManagerLeaseTtl;

    public static readonly TimeSpan DefaultManagerLeaseTtl = TimeSpan.FromSeconds(15);

    public static readonly TimeSpan MinimumManagerLeaseTtl = TimeSpan.FromSeconds(3);

    /// <summary>The longest <c>manager_lease_ttl</c> accepted: a dead manager's pools wait this long at most.</summary>
    public static readonly TimeSpan MaximumManagerLeaseTtl = TimeSpan.FromHours(1);
}

/// <summary>One entry of <c>:pools:</c> (spec §5.2).</summary>
public sealed record PoolOptions
{
    /// <summary><c>name</c> (required): the pool name, <c>[A-Za-z0-9_-]+</c>.</summary>
    public required string Name { get; init; }

    /// <summary><c>alias</c>: the alias names, string or array in the file, always a list here.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The <c>alias</c> value exactly as configured (a string or a list), or null; <c>/status</c> echoes it.</summary>
    public object? AliasAsConfigured { get; init; }

    /// <summary><c>template</c>: what the provider clones from. Defaults to the pool name for the dummy provider.</summary>
    public string Template { get; init; } = "";

    /// <summary><c>size</c> (required): VMs kept ready (plus pending). 0 = on-demand only.</summary>
    public int Size { get; init; }

    /// <summary><c>provider</c>: provider instance name. Default <c>dummy</c>.</summary>
    public string Provider { get; init; } = "dummy";

    /// <summary><c>dns_plugin</c>: key of <c>:dns_configs:</c> giving the pool's domain.</summary>
    public string? DnsPlugin { get; init; }

    /// <summary><c>clone_target</c>: overrides the global clone target.</summary>
    public string? CloneTarget { get; init; }

    /// <summary><c>timeout</c> (minutes): overrides the global pending timeout.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary><c>timeout_notification</c> (minutes): overrides the global value.</summary>
    public TimeSpan? TimeoutNotification { get; init; }

    /// <summary><c>ready_ttl</c> (minutes): overrides the global value.</summary>
    public TimeSpan? ReadyTtl { get; init; }

    /// <summary><c>check_loop_delay_min</c> (seconds): overrides the global value.</summary>
    public TimeSpan? CheckLoopDelayMin { get; init; }

    /// <summary><c>check_loop_delay_max</c> (seconds): overrides the global value.</summary>
    public TimeSpan? CheckLoopDelayMax { get; init; }

    /// <summary><c>check_loop_delay_decay</c>: overrides the global value.</summary>
    public double? CheckLoopDelayDecay { get; init; }

    /// <summary>Every key of the pool entry as configured (plain key → raw value), for provider-specific options.</summary>
    public IReadOnlyDictionary<string, object?> Settings { get; init; } = new Dictionary<string, object?>();

    /// <summary>
    /// The pool's <c>labels:</c> (key → value): a manager started with <c>--pools-label key=value</c> owns only pools
    /// that carry that label (affinity, e.g. one manager per hypervisor host).
    /// </summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}

/// <summary>One entry of <c>:providers:</c>.</summary>
public sealed record ProviderOptions
{
    /// <summary>The instance name (the key under <c>:providers:</c>).</summary>
    public required string Name { get; init; }

    /// <summary><c>provider_class</c>: which implementation; defaults to the instance name.</summary>
    public required string ProviderClass { get; init; }

    /// <summary>Every key of the section as configured (plain key → raw value).</summary>
    public IReadOnlyDictionary<string, object?> Settings { get; init; } = new Dictionary<string, object?>();
}

/// <summary>One entry of <c>:dns_configs:</c>.</summary>
public sealed record DnsConfigOptions
{
    public required string Name { get; init; }

    /// <summary><c>dns_class</c>, e.g. <c>dynamic-dns</c>.</summary>
    public string DnsClass { get; init; } = "dynamic-dns";

    /// <summary><c>domain</c>: appended to VM names in API answers.</summary>
    public string? Domain { get; init; }

    public IReadOnlyDictionary<string, object?> Settings { get; init; } = new Dictionary<string, object?>();
}

/// <summary>The <c>:redis:</c> section.</summary>
public sealed record RedisOptions
{
    public string Server { get; init; } = "localhost";
    public int Port { get; init; } = 6379;
    public string? Password { get; init; }
    public string? Username { get; init; }

    /// <summary><c>data_ttl</c> (hours): how long metadata of destroyed or failed VMs is kept. Default 168.</summary>
    public TimeSpan DataTtl { get; init; } = GlobalOptions.DefaultDataTtl;

    public int ConnectionPoolSize { get; init; } = 10;
    public TimeSpan ConnectionPoolTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public int ReconnectAttempts { get; init; } = 10;

    /// <summary><c>key_prefix</c> (our extension): prefix of every key, so several installations or tests share a server. Default <c>vmpooler</c>.</summary>
    public string KeyPrefix { get; init; } = "vmpooler";

    /// <summary>
    /// <c>operation_timeout</c> (seconds, our extension): the longest one inventory operation may take before the API
    /// answers 503 and the manager backs off. Default 1 (leaving room under a 2 s answer even on a loaded host).
    /// </summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>ssl</c>: connect over TLS (to the servers and to the sentinels).</summary>
    public bool Ssl { get; init; }

    /// <summary><c>ssl_ca_file</c>: PEM file of the CA that signed the server's certificate (default: the system's trust store).</summary>
    public string? SslCaFile { get; init; }

    /// <summary><c>ssl_cert_file</c> and <c>ssl_key_file</c>: PEM client certificate and key, for mutual TLS.</summary>
    public string? SslCertFile { get; init; }

    /// <inheritdoc cref="SslCertFile"/>
    public string? SslKeyFile { get; init; }

    /// <summary><c>ssl_host</c>: the name the server's certificate must carry, when it differs from <c>server</c>.</summary>
    public string? SslHost { get; init; }

    /// <summary><c>sentinels</c>: <c>host:port</c> of the Redis Sentinels; the primary of <see cref="SentinelService"/> is asked from them.</summary>
    public IReadOnlyList<string> Sentinels { get; init; } = [];

    /// <summary><c>sentinel_service</c>: the master name the sentinels monitor.</summary>
    public string? SentinelService { get; init; }

    /// <summary>
    /// <c>durability</c>: <c>none</c> (default; a change is acknowledged once the primary has it) or <c>replica</c> (each
    /// state change is followed by <c>WAIT 1</c>, so it is acknowledged only once a replica has it too).
    /// </summary>
    public RedisDurability Durability { get; init; } = RedisDurability.None;

    /// <summary><c>durability_timeout</c> (seconds): how long <c>WAIT</c> waits for a replica. Default 0.5, below <c>operation_timeout</c>.</summary>
    public TimeSpan DurabilityTimeout { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// The endpoints to connect to: <c>server</c> may list several <c>host[:port]</c> entries separated by commas
    /// (the nodes of a Redis Cluster); entries without a port use <see cref="Port"/>.
    /// </summary>
    public IReadOnlyList<string> Endpoints
        => [.. Server.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(e => e.Contains(':', StringComparison.Ordinal) ? e : $"{e}:{Port}")];
}

/// <summary>The <c>:auth:</c> section.</summary>
public sealed record AuthOptions
{
    /// <summary><c>provider</c>: <c>dummy</c> or <c>ldap</c>.</summary>
    public string Provider { get; init; } = "dummy";

    /// <summary>Every key of the section as configured.</summary>
    public IReadOnlyDictionary<string, object?> Settings { get; init; } = new Dictionary<string, object?>();
}
