using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Api;

/// <summary>The optional rate limiter (spec §2.9) and the OpenAPI document, over real HTTP.</summary>
public class RateLimitAndOpenApiTests(ITestOutputHelper output)
{
    private const string Limited = """
        ---
        :config:
          rate_limiting_enabled: true
        :rate_limits:
          global_per_ip: 3
          vm_creation:
            limit: 2
            period: 600
        :pools:
          - name: 'debian'
            size: 1
        """;

    [Fact]
    public async Task RateLimit_OverTheLimit_429WithHeadersAndJsonBody()
    {
        await using var server = await VmPoolerServer.StartAsync(Limited, VmPoolerRole.Api, output: output);

        for (var i = 0; i < 3; i++)
        {
            (await server.GetAsync("api/v3/totalrunning")).ShouldBeJson(HttpStatusCode.OK);
        }

        var limited = await server.GetAsync("api/v3/totalrunning");

        limited.ShouldBeJson((HttpStatusCode)429);
        limited.Object.ToJsonString().ShouldBe("""{"ok":false,"error":"Rate limit exceeded","limit":3,"period":60,"retry_after":60}""");
        limited.Headers["X-RateLimit-Limit"].ShouldBe("3");
        limited.Headers["X-RateLimit-Remaining"].ShouldBe("0");
        limited.Headers["Retry-After"].ShouldBe("60");
        long.Parse(limited.Headers["X-RateLimit-Reset"], System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task RateLimit_ClassesCountSeparately_CheckoutsHaveTheirOwnLimitAndPeriod()
    {
        await using var server = await VmPoolerServer.StartAsync(Limited, VmPoolerRole.Api, output: output);

        (await server.PostAsync("api/v3/vm/nosuchpool")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await server.PostAsync("api/v3/vm/nosuchpool")).Status.ShouldBe(HttpStatusCode.NotFound);
        var third = await server.PostAsync("api/v3/vm/nosuchpool");

        third.ShouldBeJson((HttpStatusCode)429);
        third.Object["limit"]!.GetValue<int>().ShouldBe(2);
        third.Object["period"]!.GetValue<int>().ShouldBe(600);
        (await server.GetAsync("api/v3/totalrunning")).ShouldBeJson(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RateLimit_OnDemandRequests_CountAsVmCreation()
    {
        await using var server = await VmPoolerServer.StartAsync(Limited, VmPoolerRole.Api, output: output);

        (await server.PostAsync("api/v3/ondemandvm/nosuchpool")).Status.ShouldNotBe((HttpStatusCode)429);
        (await server.PostAsync("api/v3/vm/nosuchpool")).Status.ShouldNotBe((HttpStatusCode)429);
        var third = await server.PostAsync("api/v3/ondemandvm/nosuchpool");

        third.ShouldBeJson((HttpStatusCode)429);
        third.Object["limit"]!.GetValue<int>().ShouldBe(2, "the vm_creation limit, shared by checkouts and on-demand requests");
    }

    [Fact]
    public async Task RateLimit_ProbesAndScrapes_NeverLimitedNorCounted()
    {
        await using var server = await VmPoolerServer.StartAsync(Limited + "\n:prometheus:\n  prometheus_endpoint: '/prometheus'\n", VmPoolerRole.Api, output: output);

        foreach (var path in new[] { "healthz", "readyz", "healthcheck", "prometheus" })
        {
            for (var i = 0; i < 10; i++)
            {
                (await server.GetAsync(path)).Status.ShouldBe(HttpStatusCode.OK, $"/{path}, request {i + 1}");
            }
        }

        // The client's global_per_ip allowance (3) is untouched by the 40 probes.
        for (var i = 0; i < 3; i++)
        {
            (await server.GetAsync("api/v3/totalrunning")).ShouldBeJson(HttpStatusCode.OK);
        }

        (await server.GetAsync("api/v3/totalrunning")).Status.ShouldBe((HttpStatusCode)429);
    }

    [Fact]
    public async Task RateLimit_Off_ByDefault()
    {
        await using var server = await VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api, output: output);

        for (var i = 0; i < 150; i++)
        {
            (await server.GetAsync("api/v3/totalrunning")).Status.ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task OpenApi_ListsEveryV3RouteAndNoAlias()
    {
        await using var server = await VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api, output: output);

        var response = await server.GetAsync("api/v3/openapi.json");

        response.Status.ShouldBe(HttpStatusCode.OK);
        var document = JsonNode.Parse(response.Body)!.AsObject();
        document["info"]!["title"]!.GetValue<string>().ShouldBe("vmpooler");
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        paths.ShouldAllBe(p => p.StartsWith("/api/v3/", StringComparison.Ordinal));
        paths.ShouldContain("/api/v3/vm/{hostname}");
        paths.ShouldContain("/api/v3/token/{token}");
        paths.ShouldContain("/api/v3/ondemandvm/{requestId}");
        paths.ShouldContain("/api/v3/poolreset");
        paths.ShouldContain("/api/v3/managers");
        paths.ShouldContain("/api/v3/summary/{section}/{key}");
        document["paths"]!["/api/v3/vm/{hostname}"]!.AsObject().Select(p => p.Key).ShouldBe(["get", "put", "delete"], ignoreOrder: true);
    }
}
