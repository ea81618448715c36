using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VmPooler.Core.Configuration;
using VmPooler.Core.Operations;
using VmPooler.Core.Providers;

namespace VmPooler.Providers;

/// <summary>The composition root of the providers.</summary>
public static class ProvidersServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="ProviderFactory"/> and, as <see cref="IVmProvider"/> services, one instance of each
    /// provider a pool uses, created on first use and wrapped in its circuit breaker and adaptive timeout
    /// (<see cref="ProviderBreakers"/>, which <c>AddVmPoolerCore</c> registers).
    /// </summary>
    public static IServiceCollection AddVmPoolerProviders(this IServiceCollection services, VmPoolerOptions options)
    {
        services.TryAddSingleton<IVmProviderFactory, ProviderFactory>();
        var used = options.Pools.Select(p => p.Provider).ToHashSet(StringComparer.Ordinal);
        foreach (var provider in options.Providers.Values.Where(p => used.Contains(p.Name)))
        {
            services.AddSingleton(sp => sp.GetRequiredService<ProviderBreakers>().Wrap(sp.GetRequiredService<IVmProviderFactory>().Create(provider, options)));
        }

        return services;
    }
}
