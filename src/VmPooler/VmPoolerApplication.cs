using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using VmPooler.Api;
using VmPooler.Api.Auth;
using VmPooler.Api.Http;
using VmPooler.Core.Configuration;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;
using VmPooler.Core.Metrics;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Operations;
using VmPooler.Core.Providers;
using VmPooler.Core.Tokens;
using VmPooler.Manager;
using VmPooler.Providers;
using VmPooler.Redis;
using VmPooler.Telemetry;
using VmPooler.Telemetry.Http;

namespace VmPooler;

/// <summary>
/// Composes vmpooler: the inventory, the providers, the pool manager and the HTTP API, for a role. The executable and
/// the integration tests build the same application through this class (the tests on 127.0.0.1:0).
/// </summary>
public static class VmPoolerApplication
{
    /// <summary>Where the service listens unless <c>--urls</c> or <c>ASPNETCORE_URLS</c> says otherwise (the original's port).</summary>
    public const string DefaultUrl = "http://0.0.0.0:4567";

    /// <summary>
    /// Builds the application. <paramref name="configureServices"/> runs last, so tests can replace services (e.g. the
    /// <see cref="TimeProvider"/>). Without <paramref name="managerIdentity"/> the manager has the default id (host name
    /// plus configuration path) and manages every pool.
    /// </summary>
    public static WebApplication Build(
        VmPoolerOptions options,
        VmPoolerRole role,
        IReadOnlyList<string>? urls = null,
        Action<IServiceCollection>? configureServices = null,
        Action<ILoggingBuilder>? configureLogging = null,
        ManagerIdentity? managerIdentity = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
            console.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Information);
        configureLogging?.Invoke(builder.Logging);

        if (urls is { Count: > 0 })
        {
            builder.WebHost.UseUrls([.. urls]);
        }
        else if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        AddVmPooler(builder.Services, options, role, managerIdentity);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        var startupLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("VmPooler.Configuration");
        foreach (var warning in options.Warnings)
        {
            StartupLog.KeyNotImplemented(startupLogger, warning);
        }

        app.UseVmPoolerHttpMetrics();
        app.UseVmPoolerPreRouting();
        app.UseRouting();
        if (role != VmPoolerRole.Manager)
        {
            app.UseVmPoolerRateLimiting(options);
        }

        app.UseVmPoolerPostRouting();

        // /healthz, /readyz, and with :prometheus: its endpoint and /healthcheck: in every role (the only routes of --role manager).
        app.MapVmPoolerTelemetry(options);
        if (role != VmPoolerRole.Manager)
        {
            // Resolve now, so status.uptime counts from start-up rather than from the first request.
            _ = app.Services.GetRequiredService<ApiServices>();
            app.MapVmPoolerApi();
        }
        else
        {
            app.MapFallback(() => ApiResults.Error(StatusCodes.Status404NotFound, "this process runs only the pool manager (--role manager)"));
        }

        return app;
    }

    /// <summary>Registers everything a role needs.</summary>
    public static IServiceCollection AddVmPooler(IServiceCollection services, VmPoolerOptions options, VmPoolerRole role, ManagerIdentity? managerIdentity = null)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.TryAddSingleton(managerIdentity ?? ManagerIdentityArguments.Create(null, [], System.Net.Dns.GetHostName(), options.Source));
        services.AddVmPoolerTelemetry(
            options,
            runsManager: role != VmPoolerRole.Api,
            TelemetryExtensions.ServiceName(options, role == VmPoolerRole.All ? null : role.ToString().ToLowerInvariant()));
        if (options.Redis is { } redis)
        {
            services.TryAddSingleton(sp => RedisConnection.Connect(redis, sp.GetRequiredService<ILogger<RedisConnection>>()));
            services.TryAddSingleton(sp => new RedisInventory(
                sp.GetRequiredService<RedisConnection>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<RedisInventory>>(),
                options.Operations.MaxDestroyedRecordsPerPool));
            services.TryAddSingleton<IInventory>(sp => sp.GetRequiredService<RedisInventory>());
            services.TryAddSingleton<IManagerLease>(sp => sp.GetRequiredService<RedisInventory>());
            services.TryAddSingleton<ITokenStore>(sp => new RedisTokenStore(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IVmTaskQueue>(sp => new RedisVmTaskQueue(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IPoolOverrideStore>(sp => new RedisPoolOverrideStore(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IOnDemandStore>(sp => new RedisOnDemandStore(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IHistoryStore>(sp => new RedisHistoryStore(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IPoolLeaseStore>(sp => ActivatorUtilities.CreateInstance<RedisPoolLeaseStore>(sp));
            services.TryAddSingleton<IDeadLetterQueue>(sp => new RedisDeadLetterQueue(sp.GetRequiredService<RedisConnection>(), options.Operations, sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IOperationsStateStore>(sp => new RedisOperationsStateStore(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<TimeProvider>()));
        }
        else
        {
            services.TryAddSingleton<IInventory>(sp => new MemoryInventory(sp.GetRequiredService<TimeProvider>(), options.Operations.MaxDestroyedRecordsPerPool));
            services.TryAddSingleton<IManagerLease, ProcessLocalLease>();
            services.TryAddSingleton<ITokenStore, MemoryTokenStore>();
            services.TryAddSingleton<IVmTaskQueue, MemoryVmTaskQueue>();
            services.TryAddSingleton<IPoolOverrideStore, MemoryPoolOverrideStore>();
            services.TryAddSingleton<IOnDemandStore>(sp => new MemoryOnDemandStore(sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IHistoryStore, MemoryHistoryStore>();
            services.TryAddSingleton<IPoolLeaseStore>(sp => new MemoryPoolLeaseStore(sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IDeadLetterQueue>(sp => new MemoryDeadLetterQueue(options.Operations, sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IOperationsStateStore>(sp => new MemoryOperationsStateStore(sp.GetRequiredService<TimeProvider>()));
        }

        services.TryAddSingleton(sp => new ApiStores(
            sp.GetRequiredService<ITokenStore>(),
            sp.GetRequiredService<IVmTaskQueue>(),
            sp.GetRequiredService<IPoolOverrideStore>(),
            sp.GetRequiredService<IOnDemandStore>(),
            sp.GetRequiredService<IPoolLeaseStore>()));

        if (role != VmPoolerRole.Manager)
        {
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
        }

        if (role != VmPoolerRole.Api)
        {
            services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<DeadLetterRecorder>(sp));
            services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<ProviderBreakers>(sp));
            services.AddHostedService(sp => ActivatorUtilities.CreateInstance<OperationsStatePublisher>(sp));
            services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<HealthCheckService>(sp));
            services.AddHostedService(sp => sp.GetRequiredService<HealthCheckService>());
            services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<PurgeService>(sp));
            services.AddHostedService(sp => sp.GetRequiredService<PurgeService>());
            services.TryAddSingleton<IVmProviderFactory>(sp => new ProviderFactory(sp.GetRequiredService<TimeProvider>(), sp.GetService<ILoggerFactory>()));
            services.TryAddSingleton<IReadOnlyList<IVmProvider>>(sp =>
            {
                var factory = sp.GetRequiredService<IVmProviderFactory>();
                var used = options.Pools.Select(p => p.Provider).ToHashSet(StringComparer.Ordinal);
                // Every provider goes through its circuit breaker and adaptive timeout (issue 14).
                var breakers = sp.GetRequiredService<ProviderBreakers>();
                return [.. options.Providers.Values.Where(p => used.Contains(p.Name)).Select(p => breakers.Wrap(factory.Create(p, options)))];
            });
            services.AddSingleton(sp => new PoolReconciler(
                options,
                sp.GetRequiredService<IInventory>(),
                sp.GetRequiredService<IReadOnlyList<IVmProvider>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<PoolReconciler>>(),
                overrides: sp.GetRequiredService<IPoolOverrideStore>(),
                onDemand: sp.GetRequiredService<IOnDemandStore>(),
                metrics: sp.GetRequiredService<VmPoolerMetrics>(),
                deadLetters: sp.GetRequiredService<DeadLetterRecorder>()));
            services.AddSingleton(sp => new ManagerJobs(
                options,
                sp.GetRequiredService<IInventory>(),
                sp.GetRequiredService<PoolReconciler>(),
                sp.GetRequiredService<IReadOnlyList<IVmProvider>>(),
                sp.GetRequiredService<IVmTaskQueue>(),
                sp.GetRequiredService<IOnDemandStore>(),
                sp.GetRequiredService<IPoolOverrideStore>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<ManagerJobs>>(),
                sp.GetRequiredService<VmPoolerMetrics>()));
            services.AddSingleton(sp => new PoolManagerService(
                options,
                sp.GetRequiredService<IInventory>(),
                sp.GetRequiredService<PoolReconciler>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<PoolManagerService>>(),
                sp.GetRequiredService<IManagerLease>(),
                sp.GetRequiredService<ManagerJobs>(),
                sp.GetRequiredService<ManagerHeartbeat>(),
                new HistoryRecorder(
                    [.. options.Pools.Select(p => p.Name)],
                    sp.GetRequiredService<IInventory>(),
                    sp.GetRequiredService<IHistoryStore>(),
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILogger<HistoryRecorder>>()),
                sp.GetService<IPoolLeaseStore>(),
                sp.GetService<ManagerIdentity>()));
            services.AddHostedService(sp => sp.GetRequiredService<PoolManagerService>());
        }

        return services;
    }

    /// <summary>The addresses the server actually listens on (with real ports once started on port 0).</summary>
    public static IReadOnlyList<string> ListeningAddresses(this WebApplication app)
        => [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];
}
