using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VmPooler.Api;
using VmPooler.Api.Http;
using VmPooler.Core;
using VmPooler.Core.Configuration;
using VmPooler.Core.Leases;
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
        // No appsettings.json is read (the configuration is vmpooler's YAML), so nothing watches the working directory for
        // it: the default watcher woke up for every write there (a log file written beside the configuration cost ~9 %
        // of the CPU under churn).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
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

    /// <summary>Registers everything a role needs: one composition root per layer.</summary>
    public static IServiceCollection AddVmPooler(IServiceCollection services, VmPoolerOptions options, VmPoolerRole role, ManagerIdentity? managerIdentity = null)
    {
        services.AddVmPoolerCore(options);
        if (options.Redis is { } redis)
        {
            services.AddRedisInventory(redis);
        }

        var roleName = role == VmPoolerRole.All ? null : role.ToString().ToLowerInvariant();
        services.AddVmPoolerTelemetry(options, runsManager: role != VmPoolerRole.Api, TelemetryExtensions.ServiceName(options, roleName));
        if (role != VmPoolerRole.Manager)
        {
            services.AddVmPoolerApi(options);
        }

        if (role != VmPoolerRole.Api)
        {
            services.AddVmPoolerProviders(options);
            services.AddVmPoolerManager(options, managerIdentity);
        }

        return services;
    }

    /// <summary>The addresses the server actually listens on (with real ports once started on port 0).</summary>
    public static IReadOnlyList<string> ListeningAddresses(this WebApplication app)
        => [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];
}
