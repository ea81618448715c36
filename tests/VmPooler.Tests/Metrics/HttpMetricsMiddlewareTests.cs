using VmPooler.Telemetry.Http;

namespace VmPooler.Tests.Metrics;

public class HttpMetricsMiddlewareTests
{
    [Theory]
    [InlineData("/api/v3/vm/abc.example.com", "/api/v3/vm/:id")]
    [InlineData("/api/v3/vm/abc/snapshot/s1", "/api/v3/vm/:id")]
    [InlineData("/api/v3/ondemandvm/1234", "/api/v3/ondemandvm/:id")]
    [InlineData("/api/v3/token/secret", "/api/v3/token/:id")]
    [InlineData("/vm/x", "/vm/:id")]
    [InlineData("/api/v3/vm", "/api/v3/vm")]
    [InlineData("/api/v3/status", "/api/v3/status")]
    [InlineData("/prometheus", "/prometheus")]
    public void CollapsePath_PathWithIdentifier_RestCollapsed(string path, string expected)
        => HttpMetricsMiddleware.CollapsePath(path).ShouldBe(expected);

    [Theory]
    [InlineData("POST", "/api/v3/vm", "post", "vm", "checkout")]
    [InlineData("POST", "/api/v3/vm/{pools}", "get", "vm", "template")]
    [InlineData("GET", "/api/v2/vm/{hostname}", "get", "vm", "hostname")]
    [InlineData("DELETE", "/vm/{hostname}", "delete", "vm", "hostname")]
    [InlineData("PUT", "/api/v3/vm/{hostname}", "put", "vm", "modify")]
    [InlineData("POST", "/api/v3/vm/{hostname}/disk/{size}", "post", "vm", "disksize")]
    [InlineData("POST", "/api/v3/vm/{hostname}/snapshot", "post", "vm", "snapshot")]
    [InlineData("POST", "/api/v3/vm/{hostname}/snapshot/{snapshot}", "post", "vm", "snapshot")]
    [InlineData("POST", "/api/v3/ondemandvm", "post", "ondemand", "requestid")]
    [InlineData("POST", "/api/v3/ondemandvm/{pools}", "delete", "ondemand", "template")]
    [InlineData("GET", "/api/v3/ondemandvm/{requestId}", "get", "ondemand", "request")]
    [InlineData("DELETE", "/api/v3/ondemandvm/{requestId}", "delete", "ondemand", "request")]
    public void RouteOperation_VmRoutes_TheOriginalsNames(string method, string pattern, string m, string subpath, string op)
        => HttpMetricsMiddleware.RouteOperation(method, pattern).ShouldBe((m, subpath, op));

    [Theory]
    [InlineData("GET", "/api/v3/vm")]
    [InlineData("GET", "/api/v3/status")]
    [InlineData("GET", null)]
    public void RouteOperation_OtherRoutes_Null(string method, string? pattern)
        => HttpMetricsMiddleware.RouteOperation(method, pattern).ShouldBeNull();
}
