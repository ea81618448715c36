using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Api.Auth;
using VmPooler.Core.Configuration;
using VmPooler.Core.Tokens;

namespace VmPooler.Api.Http;

/// <summary>
/// The optional per-client rate limit (spec §2.9, <c>config.rate_limiting_enabled</c>) on ASP.NET's rate limiter: a fixed
/// window per client (the token when one is sent, else the remote address) and request class. Limits default to the
/// original's (per 60 s: vm_creation 20, vm_deletion 50, authenticated 500, global_per_ip 100) and can be changed in the
/// top-level <c>:rate_limits:</c> section, as <c>class: limit</c> or <c>class: {limit: N, period: seconds}</c>. Counters are
/// kept per API process (the original kept them in Redis, shared by every API process).
/// </summary>
public static class RateLimiting
{
    public static readonly IReadOnlyDictionary<string, (int Limit, TimeSpan Period)> Defaults = new Dictionary<string, (int, TimeSpan)>
    {
        ["vm_creation"] = (20, TimeSpan.FromSeconds(60)),
        ["vm_deletion"] = (50, TimeSpan.FromSeconds(60)),
        ["authenticated"] = (500, TimeSpan.FromSeconds(60)),
        ["global_per_ip"] = (100, TimeSpan.FromSeconds(60)),
    };

    /// <summary>The limits in effect: the defaults with the <c>:rate_limits:</c> section's values over them.</summary>
    public static IReadOnlyDictionary<string, (int Limit, TimeSpan Period)> Limits(VmPoolerOptions options)
    {
        var limits = new Dictionary<string, (int Limit, TimeSpan Period)>(Defaults, StringComparer.Ordinal);
        if (options.Raw.TryGetValue("rate_limits", out var section) && section is IReadOnlyDictionary<string, object?> configured)
        {
            foreach (var (name, value) in configured)
            {
                if (!limits.TryGetValue(name, out var current))
                {
                    continue;
                }

                switch (value)
                {
                    case IReadOnlyDictionary<string, object?> map:
                        limits[name] = (
                            Number(map.GetValueOrDefault("limit")) is { } limit ? (int)limit : current.Limit,
                            Number(map.GetValueOrDefault("period")) is { } period ? TimeSpan.FromSeconds(period) : current.Period);
                        break;
                    default:
                        if (Number(value) is { } plain)
                        {
                            limits[name] = ((int)plain, current.Period);
                        }

                        break;
                }
            }
        }

        return limits;
    }

    /// <summary>The class of a request: which limit applies.</summary>
    public static string Classify(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        // VM routes, and the on-demand ones (spec §2.9: vm_creation includes /ondemandvm, whose path has no "/vm").
        var vmPath = path.Contains("/vm", StringComparison.OrdinalIgnoreCase) || path.Contains("/ondemandvm", StringComparison.OrdinalIgnoreCase);
        if (HttpMethods.IsPost(request.Method) && vmPath)
        {
            return "vm_creation";
        }

        if (HttpMethods.IsDelete(request.Method) && vmPath)
        {
            return "vm_deletion";
        }

        return request.Headers.ContainsKey(RequestAuth.TokenHeader) ? "authenticated" : "global_per_ip";
    }

    /// <summary>Registers the limiter when <c>rate_limiting_enabled</c> is on.</summary>
    public static IServiceCollection AddVmPoolerRateLimiting(this IServiceCollection services, VmPoolerOptions options)
    {
        if (!options.Config.RateLimitingEnabled)
        {
            return services;
        }

        var limits = Limits(options);
        return services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var kind = Classify(context.Request);
                var (limit, period) = limits[kind];
                var token = context.Request.Headers[RequestAuth.TokenHeader].ToString();
                var client = token.Length > 0
                    ? "token:" + TokenHashing.Hash(token)
                    : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                return RateLimitPartition.GetFixedWindowLimiter($"{kind}|{client}", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Math.Max(0, limit),
                    Window = period,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var context = rejected.HttpContext;
                var kind = Classify(context.Request);
                var (limit, period) = limits[kind];
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : period;
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                var headers = context.Response.Headers;
                headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
                headers["X-RateLimit-Remaining"] = "0";
                headers["X-RateLimit-Reset"] = (TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() + seconds).ToString(CultureInfo.InvariantCulture);
                headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await ApiResults.WriteAsync(context.Response, StatusCodes.Status429TooManyRequests, new JsonObject
                {
                    ["ok"] = false,
                    ["error"] = "Rate limit exceeded",
                    ["limit"] = limit,
                    ["period"] = (int)period.TotalSeconds,
                    ["retry_after"] = seconds,
                });
            };
        });
    }

    /// <summary>Adds the limiter to the pipeline when it was registered.</summary>
    public static IApplicationBuilder UseVmPoolerRateLimiting(this IApplicationBuilder app, VmPoolerOptions options)
        => options.Config.RateLimitingEnabled ? app.UseRateLimiter() : app;

    private static double? Number(object? value) => value switch
    {
        string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0 => number,
        int whole when whole >= 0 => whole,
        long whole when whole >= 0 => whole,
        double number when number >= 0 => number,
        _ => null,
    };
}
