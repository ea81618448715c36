using Microsoft.AspNetCore.Http;

namespace VmPooler.Api;

/// <summary>
/// The API generations one set of handlers serves (spec §2.10): <c>/api/v3</c> and <c>/api/v2</c> answer with FQDNs;
/// <c>/api/v1</c> and the un-versioned routes answer with short hostnames plus a top-level <c>domain</c>, and
/// <c>GET /vm/&lt;host&gt;</c> there reports <c>domain</c> instead of <c>fqdn</c>.
/// </summary>
internal static class ApiGeneration
{
    public const string V3 = "/api/v3";
    public const string V2 = "/api/v2";
    public const string V1 = "/api/v1";

    /// <summary>True when the request came in through <c>/api/v1</c> or an un-versioned route.</summary>
    public static bool UsesShortNames(HttpContext context)
    {
        var path = context.Request.PathBase.Add(context.Request.Path);
        return !path.StartsWithSegments(V3, StringComparison.OrdinalIgnoreCase) && !path.StartsWithSegments(V2, StringComparison.OrdinalIgnoreCase);
    }
}
