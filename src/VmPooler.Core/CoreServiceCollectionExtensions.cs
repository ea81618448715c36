using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VmPooler.Core.Configuration;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Operations;
using VmPooler.Core.Tokens;

namespace VmPooler.Core;

/// <summary>The composition root of Core.</summary>
public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the configuration, <see cref="TimeProvider.System"/> (unless a clock is registered already), the
    /// embedded in-memory inventory and stores (one process; <c>AddRedisInventory</c> replaces them), and the operations
    /// services the manager and the providers share (circuit breakers, the dead-letter recorder).
    /// </summary>
    public static IServiceCollection AddVmPoolerCore(this IServiceCollection services, VmPoolerOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.TryAddSingleton(options.Operations);

        services.TryAddSingleton<IInventory>(sp => new MemoryInventory(sp.GetRequiredService<TimeProvider>(), options.Operations.MaxDestroyedRecordsPerPool));
        services.TryAddSingleton<IManagerLease, ProcessLocalLease>();
        services.TryAddSingleton<ITokenStore, MemoryTokenStore>();
        services.TryAddSingleton<IVmTaskQueue, MemoryVmTaskQueue>();
        services.TryAddSingleton<IPoolOverrideStore, MemoryPoolOverrideStore>();
        services.TryAddSingleton<IOnDemandStore, MemoryOnDemandStore>();
        services.TryAddSingleton<IHistoryStore, MemoryHistoryStore>();
        services.TryAddSingleton<IPoolLeaseStore, MemoryPoolLeaseStore>();
        services.TryAddSingleton<IDeadLetterQueue, MemoryDeadLetterQueue>();
        services.TryAddSingleton<IOperationsStateStore, MemoryOperationsStateStore>();

        services.TryAddSingleton<ProviderBreakers>();
        services.TryAddSingleton<DeadLetterRecorder>();
        return services;
    }
}
