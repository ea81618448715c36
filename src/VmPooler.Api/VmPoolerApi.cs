using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Config;
using VmPooler.Api.Http;
using VmPooler.Api.Status;
using VmPooler.Api.Vm;

namespace VmPooler.Api;

/// <summary>Maps every route of the vmpooler HTTP API.</summary>
public static class VmPoolerApi
{
    public const string V3Prefix = "/api/v3";

    public static IEndpointRouteBuilder MapVmPoolerApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", () => Results.Redirect("/dashboard/"));

        var v3 = endpoints.MapGroup(V3Prefix);
        v3.MapVmApi();
        v3.MapStatusApi();
        v3.MapSummaryApi();
        v3.MapConfigApi();
        v3.MapNotYetImplemented();

        // One route for /dashboard and everything under it: routing ignores a trailing slash, so a separate
        // "/dashboard" redirect route would also catch "/dashboard/" and redirect it to itself.
        endpoints.MapGet("/dashboard/{**rest}", (HttpContext context) => context.Request.Path.Value == "/dashboard"
            ? Results.Redirect("/dashboard/")
            : ApiResults.NotImplemented("The dashboard"));
        endpoints.MapFallback(() => ApiResults.Fail(StatusCodes.Status404NotFound));
        return endpoints;
    }

    /// <summary>Routes of spec §2.2 that later releases implement: they say so with 501 rather than pretend.</summary>
    private static void MapNotYetImplemented(this RouteGroupBuilder v3)
    {
        v3.MapMethods("/token", ["GET", "POST"], () => ApiResults.NotImplemented("Token authentication"));
        v3.MapMethods("/token/{token}", ["GET", "DELETE"], (string token) => ApiResults.NotImplemented("Token authentication"));
        v3.MapPost("/ondemandvm", () => ApiResults.NotImplemented("On-demand provisioning"));
        v3.MapPost("/ondemandvm/{pools}", (string pools) => ApiResults.NotImplemented("On-demand provisioning"));
        v3.MapMethods("/ondemandvm/{requestId}", ["GET", "DELETE"], (string requestId) => ApiResults.NotImplemented("On-demand provisioning"));
        v3.MapPost("/config/{setting}", (string setting) => ApiResults.NotImplemented("Changing pool configuration"));
        v3.MapDelete("/config/{setting}/{pool}", (string setting, string pool) => ApiResults.NotImplemented("Changing pool configuration"));
        v3.MapPost("/poolreset", () => ApiResults.NotImplemented("Pool reset"));
    }
}
