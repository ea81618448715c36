using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Dummy;
using VmPooler.Providers.Qemu;

namespace VmPooler.Providers;

/// <summary>Creates the providers that ship with vmpooler from their configuration sections.</summary>
public sealed class ProviderFactory(TimeProvider timeProvider, ILoggerFactory? loggerFactory = null) : IVmProviderFactory
{
    public const string Dummy = "dummy";
    public const string Qemu = "qemu";

    public IReadOnlyCollection<string> KnownClasses { get; } = [Dummy, Qemu];

    public IReadOnlyList<string> Validate(ProviderOptions provider, IReadOnlyList<(int Index, PoolOptions Pool)> pools)
    {
        var errors = new List<string>();
        switch (provider.ProviderClass.ToLowerInvariant())
        {
            case Dummy:
                DummyProviderOptions.Parse(provider.Settings, $"providers.{provider.Name}", errors);
                break;
            case Qemu:
                var qemu = QemuProviderOptions.Parse(provider.Settings, $"providers.{provider.Name}", errors);
                foreach (var (index, pool) in pools)
                {
                    QemuPoolOptions.Parse(pool.Template, pool.Settings, qemu.PoolDefaults, $"pools[{index}]", errors);
                }

                break;
            default:
                errors.Add($"providers.{provider.Name}.provider_class: unknown provider class \"{provider.ProviderClass}\" (known: {string.Join(", ", KnownClasses)})");
                break;
        }

        return errors;
    }

    public IVmProvider Create(ProviderOptions provider, VmPoolerOptions options)
    {
        var errors = new List<string>();
        return provider.ProviderClass.ToLowerInvariant() switch
        {
            Dummy => new DummyProvider(provider.Name, DummyProviderOptions.Parse(provider.Settings, $"providers.{provider.Name}", errors), timeProvider),
            Qemu => new QemuProvider(
                provider.Name,
                QemuProviderOptions.Parse(provider.Settings, $"providers.{provider.Name}", errors),
                timeProvider,
                loggerFactory?.CreateLogger<QemuProvider>()),
            _ => throw new InvalidOperationException($"unknown provider class \"{provider.ProviderClass}\""),
        };
    }
}
