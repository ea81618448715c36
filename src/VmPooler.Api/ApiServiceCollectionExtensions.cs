using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using VmPooler.Api.Auth;
using VmPooler.Api.Http;
using VmPooler.Core.Configuration;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;

namespace VmPooler.Api;

/// <summary>The composition root of the HTTP API.</summary>
public static class ApiServiceCollectionExtensions
{
    /// <summary>
    /// Registers what the API's handlers need (<see cref="ApiServices"/>, with an inventory that counts checkouts into
    /// the dashboard history), the pool directory, rate limiting, the OpenAPI document and, with an <c>:auth:</c>
    /// section, its authenticator. Map the routes with <c>MapVmPoolerApi</c>.
    /// </summary>
    public static IServiceCollection AddVmPoolerApi(this IServiceCollection services, VmPoolerOptions options)
    {
        services.TryAddSingleton<ApiStores>();
        services.AddSingleton<PoolDirectory>();
        services.AddVmPoolerRateLimiting(options);
        services.AddVmPoolerOpenApi();
        if (options.Auth is { } auth)
        {
            services.TryAddSingleton(sp => Authenticators.Create(auth, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        }

        // The API's inventory counts checkouts into the dashboard history.
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ApiServices>(
            sp,
            ActivatorUtilities.CreateInstance<CheckoutRecordingInventory>(sp, sp.GetRequiredService<IInventory>())));
        return services;
    }
}
