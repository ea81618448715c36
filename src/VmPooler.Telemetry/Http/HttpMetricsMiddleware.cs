using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Core.Metrics;

namespace VmPooler.Telemetry.Http;

/// <summary>
/// Counts every request: <c>http_requests_total{code,method,path}</c> and <c>http_request_duration_seconds</c> with
/// collapsed paths, and <c>http_requests_vm_total.&lt;method&gt;.&lt;subpath&gt;.&lt;op&gt;</c> for the VM and on-demand
/// routes (spec §8.2), found from the matched route pattern so no handler has to count itself.
/// </summary>
public static class HttpMetricsMiddleware
{
    /// <summary>Distinct path labels kept before new ones are reported as <see cref="OtherPath"/> (random 404s must not grow the series without bound).</summary>
    internal const int MaxPaths = 500;

    internal const string OtherPath = "other";

    /// <summary>Segments after which the rest of the path is collapsed (the original's list).</summary>
    private static readonly string[] CollapseAfter = ["vm", "ondemandvm", "token", "lib", "img"];

    public static IApplicationBuilder UseVmPoolerHttpMetrics(this IApplicationBuilder app)
    {
        var metrics = app.ApplicationServices.GetRequiredService<VmPoolerMetrics>();
        var time = app.ApplicationServices.GetRequiredService<TimeProvider>();
        var paths = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        app.Use(async (context, next) =>
        {
            var started = time.GetTimestamp();
            var failed = false;
            try
            {
                await next(context);
            }
            catch
            {
                failed = true;
                throw;
            }
            finally
            {
                var path = CollapsePath(context.Request.Path.Value ?? "/");
                if (!paths.ContainsKey(path) && (paths.Count >= MaxPaths || !paths.TryAdd(path, 0)))
                {
                    path = paths.ContainsKey(path) ? path : OtherPath;
                }

                var method = context.Request.Method.ToUpperInvariant();
                metrics.HttpRequest(failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode, method, path, time.GetElapsedTime(started).TotalSeconds);
                if (RouteOperation(method, (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText) is { } op)
                {
                    metrics.ApiRequest(op.Method, op.Subpath, op.Operation);
                }
            }
        });
        return app;
    }

    /// <summary>The path with everything after <c>/vm/</c>, <c>/ondemandvm/</c>, <c>/token/</c>, <c>/lib/</c>, <c>/img/</c> replaced by <c>:id</c>.</summary>
    internal static string CollapsePath(string path)
    {
        var segments = path.Split('/');
        for (var i = 0; i < segments.Length - 1; i++)
        {
            if (CollapseAfter.Contains(segments[i], StringComparer.Ordinal) && segments[i + 1].Length > 0)
            {
                return string.Join('/', segments.Take(i + 1)) + "/:id";
            }
        }

        return path.Length > 128 ? path[..128] : path;
    }

    /// <summary>
    /// The original's per-route counter name for a matched route (<c>post.vm.checkout</c>, <c>get.vm.template</c> for
    /// POST /vm/&lt;pool&gt; — sic —, <c>delete.ondemand.template</c> for POST /ondemandvm/&lt;pool&gt; — sic —, …);
    /// null for every other route.
    /// </summary>
    internal static (string Method, string Subpath, string Operation)? RouteOperation(string method, string? pattern)
    {
        if (pattern is null)
        {
            return null;
        }

        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.FindIndex(segments, s => s is "vm" or "ondemandvm");
        if (at < 0)
        {
            return null;
        }

        var rest = segments.Skip(at + 1).Select(s => s.StartsWith('{') ? "*" : s).ToArray();
        var shape = string.Join('/', rest);
        var op = (segments[at], method, shape) switch
        {
            ("vm", "POST", "") => ("post", "vm", "checkout"),
            ("vm", "POST", "*") => ("get", "vm", "template"),
            ("vm", "GET", "*") => ("get", "vm", "hostname"),
            ("vm", "DELETE", "*") => ("delete", "vm", "hostname"),
            ("vm", "PUT", "*") => ("put", "vm", "modify"),
            ("vm", "POST" or "PUT", "*/disk/*") => ("post", "vm", "disksize"),
            ("vm", "POST", "*/snapshot" or "*/snapshot/*") => ("post", "vm", "snapshot"),
            ("ondemandvm", "POST", "") => ("post", "ondemand", "requestid"),
            ("ondemandvm", "POST", "*") => ("delete", "ondemand", "template"),
            ("ondemandvm", "GET", "*") => ("get", "ondemand", "request"),
            ("ondemandvm", "DELETE", "*") => ("delete", "ondemand", "request"),
            _ => ((string, string, string)?)null,
        };
        return op;
    }
}
