using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;

namespace VmPooler.Manager;

/// <summary>The composition root of the pool manager.</summary>
public static class ManagerServiceCollectionExtensions
{
    /// <summary>
    /// Registers the pool manager and its background services: the reconciler, the jobs (tasks, on-demand requests),
    /// the dashboard history sampler, the health checks, purge and the publication of the circuit breakers' state. The
    /// providers come in as <c>IVmProvider</c> services (<c>AddVmPoolerProviders</c>). Without
    /// <paramref name="identity"/> the manager has the default id (host name plus configuration path) and manages every
    /// pool.
    /// </summary>
    public static IServiceCollection AddVmPoolerManager(this IServiceCollection services, VmPoolerOptions options, ManagerIdentity? identity = null)
    {
        services.TryAddSingleton(identity ?? ManagerIdentityArguments.Create(null, [], System.Net.Dns.GetHostName(), options.Source));
        services.AddHostedService<OperationsStatePublisher>();
        services.TryAddSingleton<HealthCheckService>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthCheckService>());
        services.TryAddSingleton<PurgeService>();
        services.AddHostedService(sp => sp.GetRequiredService<PurgeService>());
        services.AddSingleton<PoolReconciler>();
        services.AddSingleton<ManagerJobs>();
        services.AddSingleton(sp => new HistoryRecorder(
            [.. options.Pools.Select(p => p.Name)],
            sp.GetRequiredService<IInventory>(),
            sp.GetRequiredService<IHistoryStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<HistoryRecorder>>()));
        services.AddSingleton<PoolManagerService>();
        services.AddHostedService(sp => sp.GetRequiredService<PoolManagerService>());
        return services;
    }
}
