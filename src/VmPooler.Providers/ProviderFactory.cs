using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Dummy;

namespace VmPooler.Providers;

/// <summary>Creates the providers that ship with vmpooler from their configuration sections.</summary>
public sealed class ProviderFactory(TimeProvider timeProvider) : IVmProviderFactory
{
    public const string Dummy = "dummy";

    public IReadOnlyCollection<string> KnownClasses { get; } = [Dummy];

    public IReadOnlyList<string> Validate(ProviderOptions provider, IReadOnlyList<(int Index, PoolOptions Pool)> pools)
    {
        var errors = new List<string>();
        switch (provider.ProviderClass.ToLowerInvariant())
        {
            case Dummy:
                DummyProviderOptions.Parse(provider.Settings, $"providers.{provider.Name}", errors);
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
            _ => throw new InvalidOperationException($"unknown provider class \"{provider.ProviderClass}\""),
        };
    }
}
