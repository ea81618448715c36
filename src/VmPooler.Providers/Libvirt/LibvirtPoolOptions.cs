using VmPooler.Core.Configuration;

namespace VmPooler.Providers.Libvirt;

/// <summary>
/// The per-pool options of a libvirt pool. The pool's <c>template</c> names a template domain, defined (not necessarily
/// running) on every host of the provider; its first disk is a volume of a storage pool, on which each clone gets a
/// qcow2 copy-on-write overlay.
/// </summary>
internal sealed record LibvirtPoolOptions
{
    /// <summary>The template domain's name (the pool's <c>template</c>).</summary>
    public string Template { get; init; } = "";

    /// <summary><c>storage_pool</c>: where clone volumes go. Default <c>default</c>.</summary>
    public string StoragePool { get; init; } = "default";

    /// <summary><c>template_volume</c>: the base volume in <c>storage_pool</c>; default: the template domain's first disk.</summary>
    public string? TemplateVolume { get; init; }

    /// <summary><c>memory</c> (MiB): overrides the template's memory.</summary>
    public int? MemoryMiB { get; init; }

    /// <summary><c>cpus</c>: overrides the template's vCPU count.</summary>
    public int? Cpus { get; init; }

    /// <summary><c>network</c>: <c>forward</c> (default) or <c>template</c>, see <see cref="LibvirtNetwork"/>.</summary>
    public LibvirtNetwork Network { get; init; } = LibvirtNetwork.Forward;

    /// <summary><c>ready_check</c>: <c>ssh</c> (default), <c>tcp</c> or <c>running</c>, see <see cref="LibvirtReadyCheck"/>.</summary>
    public LibvirtReadyCheck ReadyCheck { get; init; } = LibvirtReadyCheck.Ssh;

    /// <summary><c>ssh_port</c>: the guest's SSH port with <c>network: template</c>. Default 22.</summary>
    public int SshPort { get; init; } = 22;

    /// <summary>The options of <paramref name="pool"/> over the provider's defaults.</summary>
    public static LibvirtPoolOptions Parse(PoolOptions pool, LibvirtPoolOptions defaults, string path, ICollection<string> errors)
    {
        var configReader = new ConfigReader();
        var parsed = Parse(pool, defaults, configReader.Section(pool.Settings, path));
        ProviderSettings.CopyErrors(configReader, errors);
        return parsed;
    }

    /// <summary>The options of <paramref name="pool"/> over the provider's defaults; problems go to the section's reader.</summary>
    public static LibvirtPoolOptions Parse(PoolOptions pool, LibvirtPoolOptions defaults, ConfigSection reader)
    {
        var parsed = ParseKeys(reader, defaults) with { Template = pool.Template };
        if (string.IsNullOrWhiteSpace(pool.Template))
        {
            reader.Error("template", "is required (the name of the template domain to clone)");
        }

        return parsed;
    }

    internal static LibvirtPoolOptions ParseKeys(ConfigSection reader, LibvirtPoolOptions defaults)
    {
        var storagePool = reader.String("storage_pool") ?? defaults.StoragePool;
        if (string.IsNullOrWhiteSpace(storagePool))
        {
            reader.Error("storage_pool", "must name a libvirt storage pool");
        }

        return new LibvirtPoolOptions
        {
            StoragePool = storagePool,
            TemplateVolume = reader.String("template_volume") ?? defaults.TemplateVolume,
            MemoryMiB = reader.Int("memory", 16, 1 << 24) ?? defaults.MemoryMiB,
            Cpus = reader.Int("cpus", 1, 1024) ?? defaults.Cpus,
            Network = Choice(reader, "network", defaults.Network, ("forward", LibvirtNetwork.Forward), ("template", LibvirtNetwork.Template)),
            ReadyCheck = Choice(reader, "ready_check", defaults.ReadyCheck, ("ssh", LibvirtReadyCheck.Ssh), ("tcp", LibvirtReadyCheck.Tcp), ("running", LibvirtReadyCheck.Running)),
            SshPort = reader.Int("ssh_port", 1, 65535) ?? defaults.SshPort,
        };
    }

    private static T Choice<T>(ConfigSection reader, string key, T fallback, params (string Name, T Value)[] choices)
    {
        var text = reader.String(key);
        if (text is null)
        {
            return fallback;
        }

        foreach (var (name, value) in choices)
        {
            if (string.Equals(name, text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        reader.Error(key, $"must be one of {string.Join(", ", choices.Select(c => c.Name))} (got \"{text}\")");
        return fallback;
    }
}
