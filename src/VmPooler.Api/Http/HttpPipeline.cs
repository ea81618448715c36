using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Api.Http;

/// <summary>
/// The middleware around the routes, so no framework default leaks out: optional trailing slashes, unknown routes and
/// wrong methods answered <c>404 {"ok": false}</c>, and a JSON 500 (never a stack trace) for real faults.
/// </summary>
public static class HttpPipeline
{
    private const string MethodNotAllowedEndpoint = "405 HTTP Method Not Supported";

    /// <summary>Runs before routing: error backstop, then trailing-slash normalisation.</summary>
    public static IApplicationBuilder UseVmPoolerPreRouting(this IApplicationBuilder app)
    {
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (InventoryUnavailableException ex) when (!context.Response.HasStarted)
            {
                // Redis down or too slow: a clear, quick 503. With Redis down nothing changed; with Redis merely slow, a
                // write may still land after the answer (a checkout is rolled back when it does, other writes are not).
                context.Response.Clear();
                await ApiResults.WriteAsync(
                    context.Response,
                    StatusCodes.Status503ServiceUnavailable,
                    new JsonObject { ["ok"] = false, ["error"] = ex.Message });
            }
            catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("VmPooler.Api");
                ApiLog.Unhandled(logger, ex, context.Request.Method, context.Request.Path);
                context.Response.Clear();
                await ApiResults.WriteAsync(
                    context.Response,
                    StatusCodes.Status500InternalServerError,
                    new JsonObject { ["ok"] = false, ["error"] = "Internal server error" });
            }
        });

        app.Use((context, next) =>
        {
            // HEAD is GET without the body (RFC 9110 §9.3.2), so probes and `curl -I` work on every GET route, which are
            // mapped for GET only. Kestrel knows the request came as HEAD and sends the headers alone.
            if (HttpMethods.IsHead(context.Request.Method))
            {
                context.Request.Method = HttpMethods.Get;
            }

            // Trailing slash is optional on every route except POST /api/v3/token and the dashboard (spec §2.2).
            var path = context.Request.Path.Value;
            if (path is { Length: > 1 } && path.EndsWith('/')
                && !path.StartsWith("/dashboard/", StringComparison.Ordinal) && path != "/dashboard/"
                && !(HttpMethods.IsPost(context.Request.Method) && path.EndsWith("/token/", StringComparison.Ordinal)))
            {
                context.Request.Path = new PathString(path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/");
            }

            return next(context);
        });

        app.Use(async (context, next) =>
        {
            await next(context);
            var options = context.RequestServices.GetRequiredService<VmPoolerOptions>();
            if (options.Config.RequestLogger)
            {
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("VmPooler.Api");
                ApiLog.Request(logger, context.Request.Method, context.Request.Path, context.Response.StatusCode);
            }
        });

        return app;
    }

    /// <summary>Runs after routing: a path that exists with another method is an unknown route, as in the original.</summary>
    public static IApplicationBuilder UseVmPoolerPostRouting(this IApplicationBuilder app)
    {
        app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.DisplayName == MethodNotAllowedEndpoint)
            {
                return ApiResults.WriteAsync(context.Response, StatusCodes.Status404NotFound, new JsonObject { ["ok"] = false });
            }

            return next(context);
        });
        return app;
    }
}
