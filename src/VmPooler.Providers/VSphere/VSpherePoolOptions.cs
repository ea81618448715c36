using System.Globalization;
using VmPooler.Core.Configuration;

namespace VmPooler.Providers.VSphere;

/// <summary>The vSphere options of one pool (spec §5.2), parsed from the pool entry.</summary>
internal sealed record VSpherePoolOptions
{
    /// <summary><c>template</c>: inventory path of the template under the datacenter's VM folder, e.g. <c>templates/debian-12</c>.</summary>
    public required string Template { get; init; }

    /// <summary><c>folder</c>: the pool's VM folder under the datacenter's VM folder, e.g. <c>vmpooler/debian-12</c>. Every VM in it belongs to the pool.</summary>
    public required string Folder { get; init; }

    /// <summary><c>datastore</c>: where clones and added disks go; null keeps the template's datastore (disks then need one).</summary>
    public string? Datastore { get; init; }

    /// <summary><c>datacenter</c>: overrides the provider's datacenter.</summary>
    public string? Datacenter { get; init; }

    /// <summary><c>clone_target</c>: the cluster (or standalone host) to clone onto; falls back to <c>config.clone_target</c>.</summary>
    public string? CloneTarget { get; init; }

    /// <summary><c>create_linked_clone</c>: overrides the global <c>create_linked_clones</c>.</summary>
    public bool? CreateLinkedClone { get; init; }

    /// <summary><c>snapshot_mainMem_ioBlockPages</c>: written to the clone's <c>mainMem.ioBlockPages</c> extraConfig.</summary>
    public string? SnapshotMainMemIoBlockPages { get; init; }

    /// <summary><c>snapshot_mainMem_iowait</c>: written to the clone's <c>mainMem.iowait</c> extraConfig.</summary>
    public string? SnapshotMainMemIoWait { get; init; }

    /// <summary><c>ready_check</c> (our extension): <c>tcp</c> (default), <c>tools</c> or <c>powered_on</c>.</summary>
    public VSphereReadyCheck ReadyCheck { get; init; } = VSphereReadyCheck.Tcp;

    /// <summary><c>extra_config</c> (our extension): more extraConfig entries for every clone (key → value).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraConfig { get; init; } = [];

    /// <summary>Parses a pool's vSphere options; problems go to <paramref name="errors"/>, each naming its key.</summary>
    public static VSpherePoolOptions Parse(PoolOptions pool, string path, ICollection<string> errors)
    {
        var configReader = new ConfigReader();
        var options = Parse(pool, configReader.Section(pool.Settings, path));
        ProviderSettings.CopyErrors(configReader, errors);
        return options;
    }

    /// <summary>Parses a pool's vSphere options from its entry; problems go to the section's reader.</summary>
    public static VSpherePoolOptions Parse(PoolOptions pool, ConfigSection reader)
    {
        var folder = reader.RequiredString("folder", "the pool's VM folder under the datacenter, e.g. vmpooler/" + pool.Name);
        var linked = reader.Bool("create_linked_clone") ?? reader.Bool("create_linked_clones");
        var readyCheck = VSphereReadyCheck.Tcp;
        switch (reader.String("ready_check")?.Trim().ToLowerInvariant())
        {
            case null or "tcp" or "ssh":
                break;
            case "tools":
                readyCheck = VSphereReadyCheck.Tools;
                break;
            case "powered_on" or "poweredon" or "power":
                readyCheck = VSphereReadyCheck.PoweredOn;
                break;
            case var other:
                reader.Error("ready_check", $"must be tcp, tools or powered_on (got \"{other}\")");
                break;
        }

        return new VSpherePoolOptions
        {
            Template = pool.Template.Trim('/'),
            Folder = folder?.Trim('/') ?? "",
            Datastore = reader.String("datastore"),
            Datacenter = reader.String("datacenter"),
            CloneTarget = pool.CloneTarget,
            CreateLinkedClone = linked,
            SnapshotMainMemIoBlockPages = Scalar(reader, "snapshot_mainMem_ioBlockPages"),
            SnapshotMainMemIoWait = Scalar(reader, "snapshot_mainMem_iowait"),
            ReadyCheck = readyCheck,
            ExtraConfig = reader.StringMap("extra_config") ?? [],
        };
    }

    /// <summary>
    /// An integer kept as written. The key is read as the original spells it, or else all in lower case (how Puppet
    /// class parameters write it into generated configurations); these two keys are the only ones with two spellings.
    /// </summary>
    private static string? Scalar(ConfigSection reader, string key)
    {
        if (!reader.Has(key) && reader.Has(key.ToLowerInvariant()))
        {
            key = key.ToLowerInvariant();
        }

        var value = reader.String(key);
        if (value is not null && !long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
        {
            reader.Error(key, $"must be an integer (got \"{value}\")");
            return null;
        }

        return value;
    }
}
