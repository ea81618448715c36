using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Dummy;
using VmPooler.Providers.Libvirt;
using VmPooler.Providers.Qemu;
using VmPooler.Providers.VSphere;

namespace VmPooler.Providers;

/// <summary>Creates the providers that ship with vmpooler from their configuration sections.</summary>
public sealed class ProviderFactory(TimeProvider timeProvider, ILoggerFactory? loggerFactory = null) : IVmProviderFactory
{
    public const string Dummy = "dummy";
    public const string VSphere = "vsphere";
    public const string Qemu = "qemu";
    public const string Libvirt = "libvirt";

    public IReadOnlyCollection<string> KnownClasses { get; } = [Dummy, VSphere, Qemu, Libvirt];

    public IReadOnlyList<string> Validate(
        ProviderOptions provider,
        IReadOnlyList<(int Index, PoolOptions Pool)> pools,
        IReadOnlyDictionary<string, object?>? globalConfig = null,
        GlobalOptions? global = null)
    {
        var reader = new ConfigReader();
        var section = reader.Section(provider.Settings, $"providers.{provider.Name}");
        switch (provider.ProviderClass.ToLowerInvariant())
        {
            case Dummy:
                DummyProviderOptions.Parse(section);
                break;
            case VSphere:
                ValidateVSphere(provider, pools, globalConfig, global, reader);
                break;
            case Qemu:
                var qemu = QemuProviderOptions.Parse(section);
                foreach (var (index, pool) in pools)
                {
                    QemuPoolOptions.Parse(pool.Template, reader.Section(pool.Settings, PoolPath(index)), qemu.PoolDefaults);
                }

                break;
            case Libvirt:
                var libvirt = LibvirtProviderOptions.Parse(section);
                foreach (var (index, pool) in pools)
                {
                    LibvirtPoolOptions.Parse(pool, libvirt.PoolDefaults, reader.Section(pool.Settings, PoolPath(index)));
                }

                break;
            default:
                section.Error("provider_class", $"unknown provider class \"{provider.ProviderClass}\" (known: {string.Join(", ", KnownClasses)})");
                break;
        }

        return reader.Errors;
    }

    public IVmProvider Create(ProviderOptions provider, VmPoolerOptions options)
    {
        var errors = new List<string>();
        return provider.ProviderClass.ToLowerInvariant() switch
        {
            Dummy => new DummyProvider(provider.Name, DummyProviderOptions.Parse(provider.Settings, $"providers.{provider.Name}", errors), timeProvider),
            VSphere => CreateVSphere(provider, options, errors),
            Qemu => new QemuProvider(
                provider.Name,
                QemuProviderOptions.Parse(provider.Settings, $"providers.{provider.Name}", errors),
                timeProvider,
                loggerFactory?.CreateLogger<QemuProvider>()),
            Libvirt => new LibvirtProvider(
                provider.Name,
                LibvirtProviderOptions.Parse(provider.Settings, $"providers.{provider.Name}", errors),
                timeProvider,
                loggerFactory?.CreateLogger<LibvirtProvider>()),
            _ => throw new InvalidOperationException($"unknown provider class \"{provider.ProviderClass}\""),
        };
    }

    private static void ValidateVSphere(
        ProviderOptions provider,
        IReadOnlyList<(int Index, PoolOptions Pool)> pools,
        IReadOnlyDictionary<string, object?>? globalConfig,
        GlobalOptions? global,
        ConfigReader reader)
    {
        // The :config: settings the provider reads (manage_host_selection, utilization_limit, create_linked_clones, …)
        // are checked here, so a bad one is a load error naming its key rather than a failure when the provider starts.
        VSphereProviderOptions.Parse(provider, globalConfig, global, pools.Count, reader);
        var folders = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (index, pool) in pools)
        {
            var section = reader.Section(pool.Settings, PoolPath(index));
            var parsed = VSpherePoolOptions.Parse(pool, section);
            if (parsed.Folder.Length == 0)
            {
                continue;
            }

            var key = (parsed.Datacenter ?? "") + "|" + parsed.Folder;
            if (folders.TryGetValue(key, out var other))
            {
                section.Error("folder", $"\"{parsed.Folder}\" is also the folder of pools[{other}]; every VM in a folder belongs to its pool, so each vSphere pool needs its own");
            }
            else
            {
                folders[key] = index;
            }
        }
    }

    private static string PoolPath(int index) => ConfigReader.Item("pools", index);

    private VSphereProvider CreateVSphere(ProviderOptions provider, VmPoolerOptions options, List<string> errors)
    {
        var pools = options.Pools.Where(p => string.Equals(p.Provider, provider.Name, StringComparison.Ordinal)).ToList();
        var globalConfig = options.Raw.TryGetValue("config", out var config) ? config as IReadOnlyDictionary<string, object?> : null;
        var parsed = VSphereProviderOptions.Parse(provider, globalConfig, options.Config, pools.Count, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"vSphere provider '{provider.Name}' is misconfigured: {string.Join("; ", errors)}");
        }

        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<VSphereProvider>();
        return new VSphereProvider(provider.Name, parsed, pools, timeProvider, logger);
    }
}
