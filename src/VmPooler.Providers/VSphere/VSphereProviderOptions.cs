using VmPooler.Core.Configuration;

namespace VmPooler.Providers.VSphere;

/// <summary>
/// Options of one vSphere provider instance (spec §5.2): its <c>:providers:</c> section plus the global options the
/// original reads for vSphere (<c>create_linked_clones</c>, <c>create_folders</c>, <c>purge_unconfigured_resources</c>,
/// host selection). Defaults are named constants.
/// </summary>
internal sealed record VSphereProviderOptions
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultConnectionPoolTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultTaskTimeout = TimeSpan.FromSeconds(600);
    public static readonly TimeSpan DefaultIpWait = TimeSpan.FromSeconds(45);
    public static readonly TimeSpan DefaultHostSelectionMaxAge = TimeSpan.FromSeconds(60);
    public const int DefaultUtilizationLimit = 90;

    public required VSphereConnectionOptions Connection { get; init; }

    /// <summary><c>datacenter</c>: the datacenter pools live in unless a pool names its own; null = the first one found.</summary>
    public string? Datacenter { get; init; }

    /// <summary><c>task_timeout</c> (seconds, our extension): the longest a vSphere task (clone, power, destroy…) may run. Default 600.</summary>
    public TimeSpan TaskTimeout { get; init; } = DefaultTaskTimeout;

    /// <summary><c>ip_wait_timeout</c> (seconds, our extension): how long to wait for VMware Tools to report a new VM's IP. Default 45 (below the manager's 60 s call limit).</summary>
    public TimeSpan IpWaitTimeout { get; init; } = DefaultIpWait;

    /// <summary>Global <c>create_linked_clones</c>: default true; a pool's <c>create_linked_clone</c> overrides it.</summary>
    public bool CreateLinkedClones { get; init; } = true;

    /// <summary>Global <c>create_folders</c>: create a pool's folder when it is missing. Default false.</summary>
    public bool CreateFolders { get; init; }

    /// <summary>
    /// Purge folders of pools no longer configured (global <c>purge_unconfigured_resources</c>, or its old name
    /// <c>purge_unconfigured_folders</c>, or the same keys in this provider's section). Default false.
    /// </summary>
    public bool PurgeUnconfiguredFolders { get; init; }

    /// <summary><c>resources_allowlist</c> (old name <c>folder_whitelist</c>): folder names never purged.</summary>
    public IReadOnlyList<string> ResourcesAllowlist { get; init; } = [];

    /// <summary>Global <c>manage_host_selection</c>: pick the host of each clone (least used healthy hosts, in turn) instead of leaving it to DRS.</summary>
    public bool ManageHostSelection { get; init; }

    /// <summary>Global <c>host_selection_max_age</c> (seconds): how long a host ranking is reused. Default 60.</summary>
    public TimeSpan HostSelectionMaxAge { get; init; } = DefaultHostSelectionMaxAge;

    /// <summary>Global <c>utilization_limit</c> (percent): hosts busier than this in CPU or memory get no clones. Default 90.</summary>
    public int UtilizationLimit { get; init; } = DefaultUtilizationLimit;

    /// <summary>Global <c>clone_target</c>: the cluster pools clone onto unless they name their own.</summary>
    public string? DefaultCloneTarget { get; init; }

    /// <summary>Parses the provider section (and the global options) collecting every problem into <paramref name="errors"/>.</summary>
    public static VSphereProviderOptions Parse(
        ProviderOptions provider,
        IReadOnlyDictionary<string, object?>? globalConfig,
        GlobalOptions? global,
        int poolCount,
        ICollection<string> errors)
    {
        var configReader = new ConfigReader();
        var options = Parse(provider, globalConfig, global, poolCount, configReader);
        ProviderSettings.CopyErrors(configReader, errors);
        return options;
    }

    /// <summary>Parses the provider section (and the global options); problems go to <paramref name="configReader"/>.</summary>
    public static VSphereProviderOptions Parse(
        ProviderOptions provider,
        IReadOnlyDictionary<string, object?>? globalConfig,
        GlobalOptions? global,
        int poolCount,
        ConfigReader configReader)
    {
        var reader = configReader.Section(provider.Settings, "providers." + provider.Name);
        var server = reader.RequiredString("server", "the vCenter host name, or its https://host/sdk URL");
        var username = reader.RequiredString("username", "the vCenter user vmpooler logs in as");
        var password = reader.RequiredString("password", "the password of that user");
        var sdkUrl = server is null ? null : ParseServer(server, reader);

        var globals = configReader.Section(globalConfig ?? new Dictionary<string, object?>(), "config");
        var taskLimit = global?.TaskLimit ?? GlobalOptions.DefaultTaskLimit;
        var poolSize = reader.Int("connection_pool_size", 1, 1000) ?? Math.Max(Math.Max(poolCount, taskLimit), 2);

        // Ruby vmpooler turns a configured create_linked_clones: false into true (spec §5.2 quirk); we honour what
        // the file says, since a user who writes false means it.
        var linked = globals.Bool("create_linked_clones") ?? true;
        var purge = reader.Bool("purge_unconfigured_resources") ?? reader.Bool("purge_unconfigured_folders")
            ?? globals.Bool("purge_unconfigured_resources") ?? globals.Bool("purge_unconfigured_folders") ?? false;
        var utilization = globals.Int("utilization_limit", 1, 100) ?? DefaultUtilizationLimit;

        return new VSphereProviderOptions
        {
            Connection = new VSphereConnectionOptions
            {
                SdkUrl = sdkUrl ?? new Uri("https://invalid/sdk"),
                Username = username ?? "",
                Password = password ?? "",
                Insecure = reader.Bool("insecure") ?? false,
                RequestTimeout = reader.Seconds("vsphere_timeout", NumberRule.Positive) ?? DefaultTimeout,
                MaxConcurrentRequests = poolSize,
                ConnectionWaitTimeout = reader.Seconds("connection_pool_timeout", NumberRule.Positive) ?? DefaultConnectionPoolTimeout,
            },
            Datacenter = reader.String("datacenter"),
            TaskTimeout = reader.Seconds("task_timeout", NumberRule.Positive) ?? DefaultTaskTimeout,
            IpWaitTimeout = reader.Seconds("ip_wait_timeout", NumberRule.Positive) ?? DefaultIpWait,
            CreateLinkedClones = linked,
            CreateFolders = globals.Bool("create_folders") ?? false,
            PurgeUnconfiguredFolders = purge,
            ResourcesAllowlist = reader.StringList("resources_allowlist") ?? reader.StringList("folder_whitelist") ?? [],
            ManageHostSelection = globals.Bool("manage_host_selection") ?? false,
            HostSelectionMaxAge = globals.Seconds("host_selection_max_age", NumberRule.Positive) ?? DefaultHostSelectionMaxAge,
            UtilizationLimit = utilization,
            DefaultCloneTarget = global?.CloneTarget,
        };
    }

    /// <summary>
    /// The SDK URL for <c>server</c>: a bare host (<c>vcenter.example.com</c>, optionally with a port) means
    /// <c>https://host/sdk</c>; a URL is used as it is, with <c>/sdk</c> added when it has no path.
    /// </summary>
    private static Uri? ParseServer(string server, ConfigSection reader)
    {
        var text = server.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "https://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || uri.Host.Length == 0)
        {
            reader.Error("server", $"must be a host name or an http(s) URL (got \"{server}\")");
            return null;
        }

        return uri.AbsolutePath is "" or "/" ? new Uri(uri, "/sdk") : uri;
    }
}
