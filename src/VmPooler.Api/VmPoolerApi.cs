using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Config;
using VmPooler.Api.Dashboard;
using VmPooler.Api.Http;
using VmPooler.Api.Managers;
using VmPooler.Api.OnDemand;
using VmPooler.Api.Operations;
using VmPooler.Api.Status;
using VmPooler.Api.Tokens;
using VmPooler.Api.Vm;

namespace VmPooler.Api;

/// <summary>Maps every route of the vmpooler HTTP API, under each API generation that has it (spec §2.2, §2.10).</summary>
public static class VmPoolerApi
{
    public const string V3Prefix = ApiGeneration.V3;

    public static IEndpointRouteBuilder MapVmPoolerApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", () => Results.Redirect("/dashboard/"));
        endpoints.MapVmPoolerOpenApi();

        // v3 is the current API; v2 and v1 have the same routes and handlers (v1 answers with short hostnames).
        foreach (var prefix in new[] { ApiGeneration.V3, ApiGeneration.V2, ApiGeneration.V1 })
        {
            var api = endpoints.MapGroup(prefix);
            api.MapVmApi();
            api.MapStatusApi();
            api.MapSummaryApi();
            api.MapConfigApi();
            api.MapTokenApi();
            api.MapOnDemandApi();
            api.MapPoolConfigApi();
            api.MapManagersApi();
            api.MapDeadLetterApi();
            api.MapHealthApi();
        }

        // The un-versioned routes of 2015–2.x, answered like v1 (spec §2.10). Their PUT /vm/<host>/disk/<size> always
        // 404'd in the original and is left unmapped here for the same answer.
        var unversioned = endpoints.MapGroup("");
        unversioned.MapGet("/status", StatusApi.StatusAsync);
        unversioned.MapGet("/summary", SummaryApi.SummaryAsync);
        unversioned.MapGet("/summary/{section}/{key?}", SummaryApi.SectionAsync);
        unversioned.MapTokenApi();
        unversioned.MapGet("/vm", VmApi.ListPools);
        unversioned.MapPost("/vm", VmApi.CheckoutFromBodyAsync);
        unversioned.MapPost("/vm/{pools}", VmApi.CheckoutFromPathAsync);
        unversioned.MapGet("/vm/{hostname}", VmApi.GetVmAsync);
        unversioned.MapPut("/vm/{hostname}", VmApi.ModifyVmAsync);
        unversioned.MapDelete("/vm/{hostname}", VmApi.ReturnVmAsync);
        unversioned.MapPost("/vm/{hostname}/snapshot", VmApi.SnapshotAsync);
        unversioned.MapPost("/vm/{hostname}/snapshot/{snapshot}", VmApi.RevertAsync);

        endpoints.MapDashboardApi();
        endpoints.MapFallback(() => ApiResults.Fail(StatusCodes.Status404NotFound));
        return endpoints;
    }
}
