using System.Net;
using VmPooler.Core.Configuration;

namespace VmPooler.Providers.Libvirt;

/// <summary>
/// The <c>libvirt</c> provider section (<c>:providers: :libvirt:</c>). It names one or more hosts by libvirt URI; each
/// clone goes to the reachable host with the most free memory below <c>utilization_limit</c>. Pool keys
/// (<see cref="LibvirtPoolOptions"/>) may be set here as defaults for the pools of this provider.
/// </summary>
internal sealed record LibvirtProviderOptions
{
    public const int DefaultUtilizationLimit = 90;
    public const int DefaultMaxConcurrentPerHost = 4;
    public const int DefaultForwardPortMin = 22200;
    public const int DefaultForwardPortMax = 22999;
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(120);

    /// <summary><c>uri</c> or <c>uris</c> (a string or a list): the hosts. Default <c>qemu:///system</c>.</summary>
    public IReadOnlyList<LibvirtHostOptions> Hosts { get; init; } = [new() { Uri = "qemu:///system" }];

    /// <summary><c>utilization_limit</c> (percent of a host's memory in use): hosts at or above it take no clones. Default 90.</summary>
    public int UtilizationLimit { get; init; } = DefaultUtilizationLimit;

    /// <summary><c>max_concurrent_per_host</c>: libvirt calls in flight per host. Default 4.</summary>
    public int MaxConcurrentPerHost { get; init; } = DefaultMaxConcurrentPerHost;

    /// <summary><c>call_timeout</c> (seconds): the time limit of one libvirt call. Default 30.</summary>
    public TimeSpan CallTimeout { get; init; } = DefaultCallTimeout;

    /// <summary><c>start_timeout</c> (seconds): the time limit of starting a domain (QEMU launch). Default 120.</summary>
    public TimeSpan StartTimeout { get; init; } = DefaultStartTimeout;

    /// <summary><c>forward_address</c>: where forwarded SSH ports listen on each host. Default 127.0.0.1.</summary>
    public string ForwardAddress { get; init; } = "127.0.0.1";

    /// <summary><c>forward_ports</c> (<c>MIN-MAX</c>): the ports forwarded SSH uses on each host. Default 22200-22999.</summary>
    public (int Min, int Max) ForwardPorts { get; init; } = (DefaultForwardPortMin, DefaultForwardPortMax);

    /// <summary>Defaults for the pools of this provider (the same keys as a pool).</summary>
    public LibvirtPoolOptions PoolDefaults { get; init; } = new();

    /// <summary>Reads the provider section, collecting every problem (each naming its key) into <paramref name="errors"/>.</summary>
    public static LibvirtProviderOptions Parse(IReadOnlyDictionary<string, object?> settings, string path, ICollection<string> errors)
    {
        var configReader = new ConfigReader();
        var options = Parse(configReader.Section(settings, path));
        ProviderSettings.CopyErrors(configReader, errors);
        return options;
    }

    /// <summary>Reads the provider section; problems go to the section's reader, each naming its key.</summary>
    public static LibvirtProviderOptions Parse(ConfigSection reader)
    {
        var forwardAddress = reader.String("forward_address") ?? "127.0.0.1";
        if (!IPAddress.TryParse(forwardAddress, out var bind))
        {
            reader.Error("forward_address", $"must be an IP address (got \"{forwardAddress}\")");
        }

        var keepAlive = TimeSpan.FromSeconds(reader.Int("keepalive_interval", 0, 3600) ?? 5);
        var keepAliveCount = reader.Int("keepalive_count", 1, 100) ?? 3;
        var hosts = ParseHosts(reader, bind, forwardAddress, keepAlive, keepAliveCount);
        return new LibvirtProviderOptions
        {
            Hosts = hosts,
            UtilizationLimit = reader.Int("utilization_limit", 1, 100) ?? DefaultUtilizationLimit,
            MaxConcurrentPerHost = reader.Int("max_concurrent_per_host", 1, 256) ?? DefaultMaxConcurrentPerHost,
            CallTimeout = reader.Seconds("call_timeout", NumberRule.Positive) ?? DefaultCallTimeout,
            StartTimeout = reader.Seconds("start_timeout", NumberRule.Positive) ?? DefaultStartTimeout,
            ForwardAddress = forwardAddress,
            ForwardPorts = ParsePorts(reader),
            PoolDefaults = LibvirtPoolOptions.ParseKeys(reader, new LibvirtPoolOptions()),
        };
    }

    private static List<LibvirtHostOptions> ParseHosts(ConfigSection reader, IPAddress? bind, string forwardAddress, TimeSpan keepAlive, int keepAliveCount)
    {
        var uris = new List<(string Key, string Uri)>();
        if (reader.String("uri") is { } single)
        {
            uris.Add(("uri", single));
        }

        foreach (var (uri, i) in (reader.StringList("uris") ?? []).Select((u, i) => (u, i)))
        {
            uris.Add(($"uris[{i}]", uri));
        }

        if (uris.Count == 0)
        {
            uris.Add(("uri", "qemu:///system"));
        }

        var hosts = new List<LibvirtHostOptions>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, uri) in uris)
        {
            if (!System.Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !uri.Contains("://", StringComparison.Ordinal))
            {
                reader.Error(key, $"must be a libvirt URI such as qemu:///system or qemu+ssh://root@host/system (got \"{uri}\")");
                continue;
            }

            if (!seen.Add(uri))
            {
                reader.Error(key, $"\"{uri}\" is listed twice");
                continue;
            }

            var wildcard = bind is not null && (bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any));
            var address = !wildcard ? forwardAddress : parsed.Host is { Length: > 0 } h && h != "localhost" ? h : "127.0.0.1";
            hosts.Add(new LibvirtHostOptions { Uri = uri, Address = address, KeepAliveInterval = keepAlive, KeepAliveCount = keepAliveCount });
        }

        return hosts;
    }

    private static (int Min, int Max) ParsePorts(ConfigSection reader)
    {
        var text = reader.String("forward_ports");
        if (text is null)
        {
            return (DefaultForwardPortMin, DefaultForwardPortMax);
        }

        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && int.TryParse(parts[0], out var min) && int.TryParse(parts[1], out var max) && min is >= 1024 and <= 65535 && max >= min && max <= 65535)
        {
            return (min, max);
        }

        reader.Error("forward_ports", $"must be a port range MIN-MAX within 1024-65535 (got \"{text}\")");
        return (DefaultForwardPortMin, DefaultForwardPortMax);
    }
}
