using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Core.Inventory;
using VmPooler.Core.Leases;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.ChaosTests.Fuzz;

/// <summary>
/// Fuzzing the HTTP API (issue 9, invariant 4): seeded malformed and hostile requests (<see cref="RequestGenerator"/>)
/// against a real server on loopback (API role, dummy authentication configured so the token routes answer), once on the
/// memory inventory and once on a real redis-server. Zero 5xx; every API answer with a body is JSON, and every error
/// answer is an object with <c>ok: false</c>; the inventory (every Redis key with its value, or every pool's VMs with
/// their fields) is exactly as before.
/// </summary>
public sealed class ApiFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Pools = ["alpha", "bravo"];
    private static readonly string[] SeededVms = ["fuzz-ready-1", "fuzz-ready-2", "fuzz-ready-3"];

    private static string Yaml(string redisSection) => $"""
        ---
        {redisSection}
        :config:
          max_lifetime_upper_limit: 48
        :auth:
          provider: 'dummy'
        :prometheus:
          prometheus_endpoint: '/prometheus'
        :pools:
          - name: 'alpha'
            size: 3
            provider: dummy
          - name: 'bravo'
            size: 3
            provider: dummy
            alias: ['bravo-alias']
        """;

    [Fact]
    public Task FuzzedRequests_MemoryInventory_No5xxJsonErrorsInventoryUnchanged()
        => RunAsync(null);

    [Fact]
    public async Task FuzzedRequests_RedisInventory_No5xxJsonErrorsInventoryUnchanged()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await RunAsync(redis);
    }

    private async Task RunAsync(RedisServer? redis)
    {
        var prefix = "fuzz-" + Guid.NewGuid().ToString("N")[..8];
        var redisSection = redis is null ? "" : $":redis:\n  server: '127.0.0.1'\n  port: {redis.Port.ToString(CultureInfo.InvariantCulture)}\n  key_prefix: '{prefix}'";
        await using var server = await VmPoolerServer.StartAsync(Yaml(redisSection), VmPoolerRole.Api, environment: AuthTestSupport.DebugEnvironment);
        foreach (var pool in Pools)
        {
            await server.SeedReadyAsync(pool, [.. SeededVms.Select(v => $"{v}-{pool}")]);
        }

        // A registered manager, so GET /managers has something to show (an hour: it must not lapse during the run).
        await server.App.Services.GetRequiredService<IPoolLeaseStore>().RegisterAsync(
            new ManagerRegistration("fuzz-manager", [.. Pools], new Dictionary<string, string> { ["host"] = "fuzz" }, server.Time.GetUtcNow()),
            TimeSpan.FromHours(1),
            CancellationToken.None);

        var routes = ((IEndpointRouteBuilder)server.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        routes.Count.ShouldBeGreaterThan(20, "the route list comes from the application's endpoints");
        routes.ShouldContain("/api/v3/managers");
        routes.ShouldContain("/prometheus", "the configuration maps the routes that only some configurations have");
        var before = await SnapshotAsync(server, redis, prefix);

        var seed = ChaosScale.Seed;
        var generator = new RequestGenerator(seed, routes, Pools, [.. Pools.SelectMany(p => SeededVms.Select(v => $"{v}-{p}"))]);
        var port = server.BaseAddress.Port;
        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int sent = 0, withBody = 0, errorsWithMessage = 0, errorAnswers = 0;
        var bare = new SortedDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        foreach (var request in generator.Generate(ChaosScale.FuzzRequests))
        {
            sent++;
            kinds[request.Kind] = kinds.GetValueOrDefault(request.Kind) + 1;
            RawResponse response;
            try
            {
                response = await RawHttp.SendAsync(port, request.ToBytes(), TimeSpan.FromSeconds(30));
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or OperationCanceledException or System.Net.Sockets.SocketException)
            {
                failures.Add($"no answer ({ex.GetType().Name}: {ex.Message}) to {request}");
                continue;
            }

            statuses[response.Status] = statuses.GetValueOrDefault(response.Status) + 1;
            var messagesBefore = errorsWithMessage;
            var errorsBefore = errorAnswers;
            var problem = Judge(request, response, ref withBody, ref errorAnswers, ref errorsWithMessage);
            if (errorAnswers > errorsBefore && errorsWithMessage == messagesBefore)
            {
                bare[response.Status] = bare.GetValueOrDefault(response.Status) + 1;
            }

            if (problem is not null)
            {
                failures.Add($"{problem}: {(int)response.Status} {response.ContentType} {Truncate(response.Body)} ← {request}");
            }
        }

        var after = await SnapshotAsync(server, redis, prefix);
        var changed = before.Keys.Union(after.Keys).Order(StringComparer.Ordinal)
            .Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))
            .Select(k => $"{k}: {before.GetValueOrDefault(k) ?? "(absent)"} → {after.GetValueOrDefault(k) ?? "(absent)"}").ToList();

        output.WriteLine($"{(redis is null ? "memory" : "Redis")} inventory, seed {seed} (VMPOOLER_CHAOS_SEED={seed} repeats it), {routes.Count} routes × {RequestGenerator.Methods.Length} methods then random");
        output.WriteLine($"routes: {string.Join(' ', routes)}");
        output.WriteLine($"{sent} requests in {clock.Elapsed.TotalSeconds:0.0} s; by kind: {string.Join(", ", kinds.Select(k => $"{k.Key} {k.Value}"))}");
        output.WriteLine($"statuses: {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}; 5xx: {failures.Count(f => f.StartsWith("5xx", StringComparison.Ordinal))}");
        output.WriteLine($"{withBody} answers with a body, {errorAnswers} error answers with a body, {errorsWithMessage} of them with a message (the rest, the original's bare {{\"ok\": false}}: {string.Join(", ", bare.Select(b => $"{b.Key}×{b.Value}"))}); {failures.Count} failures; {changed.Count} inventory entries changed ({before.Count} compared)");
        foreach (var failure in failures.Take(25))
        {
            output.WriteLine("  " + failure);
        }

        failures.ShouldBeEmpty($"{failures.Count} bad answers; first: {failures.FirstOrDefault()}");
        changed.ShouldBeEmpty("the inventory is unchanged after the fuzzing");
        sent.ShouldBeGreaterThanOrEqualTo(ChaosScale.FuzzRequests);
    }

    private static readonly string[] DashboardAssetTypes = ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml"];

    /// <summary>What is wrong with an answer, or null.</summary>
    private static string? Judge(FuzzRequest request, RawResponse response, ref int withBody, ref int errorAnswers, ref int errorsWithMessage)
    {
        if (response.Status >= 500)
        {
            return "5xx";
        }

        if (response.Body.Length == 0 || request.Method == "HEAD")
        {
            return null;
        }

        withBody++;
        if (response.Status is >= 300 and < 400)
        {
            return null;
        }

        // The OpenAPI document is JSON but not an API answer; every other body must be an API JSON answer.
        if (request.Target.Contains("openapi", StringComparison.OrdinalIgnoreCase) && response.Status == 200)
        {
            return null;
        }

        // Neither is the Prometheus exposition (text), answered to a GET of its path.
        if (request.Target.Split('?')[0] == "/prometheus" && response.Status == 200 && request.Method == "GET"
            && response.ContentType is { } metricsType && metricsType.StartsWith("text/plain", StringComparison.Ordinal))
        {
            return null;
        }

        // The dashboard's page and assets (HTML, CSS, JavaScript, SVG) are not API answers either; its data routes are.
        if (request.Target.StartsWith("/dashboard", StringComparison.Ordinal) && response.Status == 200 && request.Method == "GET"
            && response.ContentType is { } assetType && DashboardAssetTypes.Any(t => assetType.StartsWith(t, StringComparison.Ordinal)))
        {
            return null;
        }

        if (response.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.Ordinal))
        {
            return "a body that is not labelled JSON";
        }

        JsonNode? json;
        try
        {
            json = JsonNode.Parse(response.Body);
        }
        catch (JsonException)
        {
            return "a body that is not JSON";
        }

        if (response.Status < 400)
        {
            return null;
        }

        errorAnswers++;

        // The /summary routes answer errors with a bare JSON string, as the original does (docs/api.md, spec §3).
        if (json is JsonValue text && text.TryGetValue<string>(out var message) && message.Length > 0 && IsSummary(request.Target))
        {
            errorsWithMessage++;
            return null;
        }

        if (json is not JsonObject body || body["ok"] is not JsonValue ok || !ok.TryGetValue<bool>(out var okValue) || okValue)
        {
            return "an error answer without \"ok\": false";
        }

        if (body.Any(p => p.Key is "error" or "message" or "failure" or "bad_templates" or "not_configured" or "bad_pools"))
        {
            errorsWithMessage++;
        }

        return null;
    }

    /// <summary>
    /// The inventory's whole content: on Redis every key under the prefix with its type and value (nothing excluded);
    /// in memory every pool's VMs with their state and fields, and the counts.
    /// </summary>
    private static async Task<Dictionary<string, string>> SnapshotAsync(VmPoolerServer server, RedisServer? redis, string prefix)
    {
        var snapshot = new Dictionary<string, string>(StringComparer.Ordinal);
        if (redis is not null)
        {
            var keys = (await redis.CliAsync("--scan", "--pattern", prefix + ":*")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var key in keys)
            {
                var type = (await redis.CliAsync("type", key)).Trim();
                var value = type switch
                {
                    "string" => await redis.CliAsync("get", key),
                    "hash" => SortedLines(await redis.CliAsync("hgetall", key)),
                    "set" => SortedLines(await redis.CliAsync("smembers", key)),
                    "zset" => await redis.CliAsync("zrange", key, "0", "-1", "withscores"),
                    "list" => await redis.CliAsync("lrange", key, "0", "-1"),
                    _ => "",
                };
                snapshot[key] = $"{type} {value.ReplaceLineEndings(" ").Trim()} ttl-set:{(await redis.CliAsync("pttl", key)).Trim() != "-1"}";
            }

            snapshot.Count.ShouldBeGreaterThan(5, "the seeded VMs are in Redis");
            return snapshot;
        }

        foreach (var pool in Pools)
        {
            var state = await server.Inventory.GetPoolAsync(pool, CancellationToken.None).DefaultTimeout();
            snapshot[pool] = JsonSerializer.Serialize(state);
        }

        foreach (var (pool, counts) in await server.Inventory.GetCountsAsync(Pools, CancellationToken.None).DefaultTimeout())
        {
            snapshot[pool + ":counts"] = counts.ToString() ?? "";
        }

        return snapshot;
    }

    private static bool IsSummary(string target)
        => target.Split('?')[0].TrimEnd('/').Split('/').Contains("summary", StringComparer.Ordinal);

    private static string SortedLines(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
