using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Operations;
using VmPooler.Core.Tokens;

namespace VmPooler.Redis;

/// <summary>The composition root of the Redis inventory.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Puts the inventory and every store on the Redis that <paramref name="redis"/> names, in place of the embedded
    /// in-memory ones (whether <c>AddVmPoolerCore</c> ran before or runs after). The dead-letter queue reads the
    /// <see cref="OperationsOptions"/> that <c>AddVmPoolerCore</c> registers.
    /// </summary>
    public static IServiceCollection AddRedisInventory(this IServiceCollection services, RedisOptions redis)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => RedisConnection.Connect(redis, sp.GetRequiredService<ILogger<RedisConnection>>()));
        services.TryAddSingleton(sp => new RedisInventory(
            sp.GetRequiredService<RedisConnection>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RedisInventory>>(),
            sp.GetRequiredService<OperationsOptions>().MaxDestroyedRecordsPerPool));
        Use<IInventory>(services, sp => sp.GetRequiredService<RedisInventory>());
        Use<IManagerLease>(services, sp => sp.GetRequiredService<RedisInventory>());
        Use<ITokenStore, RedisTokenStore>(services);
        Use<IVmTaskQueue, RedisVmTaskQueue>(services);
        Use<IPoolOverrideStore, RedisPoolOverrideStore>(services);
        Use<IOnDemandStore, RedisOnDemandStore>(services);
        Use<IHistoryStore, RedisHistoryStore>(services);
        Use<IPoolLeaseStore, RedisPoolLeaseStore>(services);
        Use<IDeadLetterQueue, RedisDeadLetterQueue>(services);
        Use<IOperationsStateStore, RedisOperationsStateStore>(services);
        return services;
    }

    private static void Use<TService, TImplementation>(IServiceCollection services)
        where TService : class
        where TImplementation : class, TService
    {
        services.RemoveAll<TService>();
        services.AddSingleton<TService, TImplementation>();
    }

    private static void Use<TService>(IServiceCollection services, Func<IServiceProvider, TService> factory)
        where TService : class
    {
        services.RemoveAll<TService>();
        services.AddSingleton(factory);
    }
}
