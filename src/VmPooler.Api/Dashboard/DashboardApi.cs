using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Http;

namespace VmPooler.Api.Dashboard;

/// <summary>
/// The dashboard (spec §2.9, §8.4): the page and its assets under <c>/dashboard/</c>, the one aggregated JSON document
/// the page polls (<c>/dashboard/data</c>), and the two data routes of the original dashboard
/// (<c>/dashboard/stats/vmpooler/pool</c> and <c>…/running</c>), whose <c>history</c> comes from the built-in history
/// instead of Graphite. Any other path under <c>/dashboard/</c> is a JSON 404.
/// </summary>
internal static class DashboardApi
{
    public static IEndpointRouteBuilder MapDashboardApi(this IEndpointRouteBuilder endpoints)
    {
        // One catch-all for /dashboard and unknown paths under it: routing ignores a trailing slash, so a separate
        // "/dashboard" redirect route would also catch "/dashboard/" and redirect it to itself.
        endpoints.MapGet("/dashboard/{**rest}", (HttpContext context, ApiServices services, string? rest) =>
        {
            var path = context.Request.Path.Value;
            if (path == "/dashboard")
            {
                return Results.Redirect("/dashboard/");
            }

            if (path == "/dashboard/")
            {
                return DashboardAssets.Page(services.Options.Config.SiteName);
            }

            return DashboardAssets.Find(rest) ?? NotFound(path);
        });
        // The dashboard is read-only: other methods get the API's unknown-route answer, whatever the path looks like.
        endpoints.MapMethods("/dashboard/{**rest}", ["POST", "PUT", "DELETE", "PATCH"], () => ApiResults.Fail(StatusCodes.Status404NotFound));
        endpoints.MapGet("/dashboard/data", DashboardData.GetAsync);
        endpoints.MapGet("/dashboard/stats/vmpooler/pool", DashboardStats.PoolAsync);
        endpoints.MapGet("/dashboard/stats/vmpooler/running", DashboardStats.RunningAsync);
        return endpoints;
    }

    /// <summary>True when the query has <c>history</c>, whatever its value (the original tests the parameter's presence).</summary>
    internal static bool WantsHistory(HttpRequest request) => request.Query.ContainsKey("history");

    private static IResult NotFound(string? path)
        => ApiResults.Error(StatusCodes.Status404NotFound, $"no such dashboard resource: {path}");
}
