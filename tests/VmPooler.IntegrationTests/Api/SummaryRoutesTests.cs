using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Api;

/// <summary>/api/v3/summary and /api/v3/summary/&lt;section&gt;[/&lt;key&gt;] over real HTTP (spec §2.8).</summary>
public class SummaryRoutesTests(ITestOutputHelper output)
{
    /// <summary>"Today" for every test: 2026-03-10 (UTC).</summary>
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private static readonly DateOnly Yesterday = new(2026, 3, 9);
    private static readonly DateOnly Today = new(2026, 3, 10);

    private const string EmptyTaskDay = """{"duration":{"average":0,"min":0,"max":0,"total":0},"count":{"total":0}}""";
    private const string EmptyTaskRange = """{"duration":{"total":0,"min":0,"max":0,"average":0,"pool":{}},"count":{"total":0,"pool":{}}}""";

    private Task<VmPoolerServer> StartAsync(DateTimeOffset? now = null)
    {
        var clock = new FakeTimeProvider(now ?? Now);
        return VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api, services => services.AddSingleton<TimeProvider>(clock), output);
    }

    /// <summary>The JSON text in compact form, keys in the order given (so comparing two of them checks key order).</summary>
    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    private static string Compact(JsonNode? node) => node.ShouldNotBeNull().ToJsonString();

    private static IReadOnlyList<string> KeysOf(JsonNode? node) => [.. node.ShouldNotBeNull().AsObject().Select(p => p.Key)];

    private static Task BootAsync(VmPoolerServer server, DateOnly day, string pool, string vm, double seconds)
        => RecordAsync(server, DurationKind.Boot, day, pool, vm, seconds);

    private static Task CloneAsync(VmPoolerServer server, DateOnly day, string pool, string vm, double seconds)
        => RecordAsync(server, DurationKind.Clone, day, pool, vm, seconds);

    private static async Task RecordAsync(VmPoolerServer server, DurationKind kind, DateOnly day, string pool, string vm, double seconds)
    {
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(8, 0)), TimeSpan.Zero);
        await server.Inventory.RecordDurationAsync(kind, pool, vm, seconds, at, CancellationToken.None).DefaultTimeout();
    }

    private static async Task TagAsync(VmPoolerServer server, DateOnly day, string vm, string tag, string value)
        => await server.Inventory.RecordTagsAsync(vm, new Dictionary<string, string> { [tag] = value }, day, CancellationToken.None).DefaultTimeout();

    /// <summary>
    /// Yesterday: boots debian d1 10 s, d2 20 s, centos c1 5 s; tags project=a on d1 and d2, user=bob on d2.
    /// Today: boot debian d3 30 s, clone debian d3 2.5 s; tag project=b on d3.
    /// </summary>
    private static async Task SeedTwoDaysAsync(VmPoolerServer server)
    {
        await BootAsync(server, Yesterday, "debian", "d1", 10);
        await BootAsync(server, Yesterday, "debian", "d2", 20);
        await BootAsync(server, Yesterday, "centos", "c1", 5);
        await BootAsync(server, Today, "debian", "d3", 30);
        await CloneAsync(server, Today, "debian", "d3", 2.5);
        await TagAsync(server, Yesterday, "d1", "project", "a");
        await TagAsync(server, Yesterday, "d2", "project", "a");
        await TagAsync(server, Yesterday, "d2", "user", "bob");
        await TagAsync(server, Today, "d3", "project", "b");
    }

    // ---- GET /api/v3/summary ------------------------------------------------------------------------------------

    [Fact]
    public async Task Summary_NoData_ReturnsTodayWithZerosAsFullBody()
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/summary");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Body.ShouldStartWith("{\n  \"daily\": [\n    {\n      \"date\": \"2026-03-10\",");
        Compact(response.Json).ShouldBe(Compact($$"""
            {
              "daily": [ { "date": "2026-03-10", "boot": {{EmptyTaskDay}}, "clone": {{EmptyTaskDay}}, "tag": {} } ],
              "boot": {{EmptyTaskRange}},
              "clone": {{EmptyTaskRange}},
              "tag": {}
            }
            """));
    }

    [Fact]
    public async Task Summary_TwoDaysOfData_ReportsDailyEntriesAndRangeTotals()
    {
        await using var server = await StartAsync();
        await SeedTwoDaysAsync(server);

        var response = await server.GetAsync("api/v3/summary?from=2026-03-09&to=2026-03-10");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["daily", "boot", "clone", "tag"]);
        var daily = response.Object["daily"]!.AsArray();
        daily.Count.ShouldBe(2);
        daily.Select(d => KeysOf(d)).ShouldAllBe(keys => keys.SequenceEqual(new[] { "date", "boot", "clone", "tag" }));
        daily.Select(d => d!["date"]!.GetValue<string>()).ShouldBe(["2026-03-09", "2026-03-10"]);

        Compact(daily[0]!["boot"]).ShouldBe(Compact("""
            {
              "duration": {
                "average": 11.7, "min": 5, "max": 20, "total": 35,
                "pool": {
                  "debian": { "total": 30, "average": 15, "min": 10, "max": 20 },
                  "centos": { "total": 5, "average": 5, "min": 5, "max": 5 }
                }
              },
              "count": { "total": 3, "pool": { "debian": { "total": 2 }, "centos": { "total": 1 } } }
            }
            """));
        Compact(daily[0]!["clone"]).ShouldBe(Compact(EmptyTaskDay));
        Compact(daily[0]!["tag"]).ShouldBe(Compact("""{ "project": { "a": 2, "total": 2 }, "user": { "bob": 1, "total": 1 } }"""));
        Compact(daily[1]!["clone"]).ShouldBe(Compact("""
            {
              "duration": { "average": 2.5, "min": 2.5, "max": 2.5, "total": 2.5, "pool": { "debian": { "total": 2.5, "average": 2.5, "min": 2.5, "max": 2.5 } } },
              "count": { "total": 1, "pool": { "debian": { "total": 1 } } }
            }
            """));
        Compact(daily[1]!["tag"]).ShouldBe(Compact("""{ "project": { "b": 1, "total": 1 } }"""));

        Compact(response.Object["boot"]).ShouldBe(Compact("""
            {
              "duration": {
                "total": 65, "min": 5, "max": 30, "average": 16.3,
                "pool": {
                  "debian": { "total": 60, "min": 10, "max": 30, "average": 20 },
                  "centos": { "total": 5, "min": 5, "max": 5, "average": 5 }
                }
              },
              "count": { "total": 4, "pool": { "debian": { "total": 3 }, "centos": { "total": 1 } } }
            }
            """));
        Compact(response.Object["clone"]).ShouldBe(Compact("""
            {
              "duration": { "total": 2.5, "min": 2.5, "max": 2.5, "average": 2.5, "pool": { "debian": { "total": 2.5, "min": 2.5, "max": 2.5, "average": 2.5 } } },
              "count": { "total": 1, "pool": { "debian": { "total": 1 } } }
            }
            """));
        // Counts add up per tag; a value first seen on a later day comes after "total" (the original's order).
        Compact(response.Object["tag"]).ShouldBe(Compact("""{ "project": { "a": 2, "total": 3, "b": 1 }, "user": { "bob": 1, "total": 1 } }"""));
    }

    [Fact]
    public async Task Summary_NoParameters_CoversTodayOnly()
    {
        await using var server = await StartAsync();
        await SeedTwoDaysAsync(server);

        var response = await server.GetAsync("api/v3/summary");

        response.ShouldBeJson(HttpStatusCode.OK);
        var daily = response.Object["daily"]!.AsArray().ShouldHaveSingleItem();
        daily!["date"]!.GetValue<string>().ShouldBe("2026-03-10");
        response.Object["boot"]!["count"]!["total"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task Summary_OnlyFrom_RunsToToday()
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/summary?from=2026-03-04");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object["daily"]!.AsArray().Select(d => d!["date"]!.GetValue<string>())
            .ShouldBe(["2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]);
    }

    [Fact]
    public async Task Summary_ToInTheFuture_IsAllowed()
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/summary?from=2026-03-10&to=2026-03-12");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object["daily"]!.AsArray().Count.ShouldBe(3);
    }

    [Fact]
    public async Task Summary_Today_IsTheUtcDate()
    {
        // 23:30 at UTC-05:00 is already the next day in UTC.
        await using var server = await StartAsync(new DateTimeOffset(2026, 3, 10, 23, 30, 0, TimeSpan.FromHours(-5)));

        var response = await server.GetAsync("api/v3/summary");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object["daily"]![0]!["date"]!.GetValue<string>().ShouldBe("2026-03-11");
    }

    [Fact]
    public async Task Summary_RangeOfExactlyTheLimit_IsAnswered()
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync("api/v3/summary?from=2025-03-10&to=2026-03-10");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object["daily"]!.AsArray().Count.ShouldBe(366);
    }

    // ---- date errors (both routes) ------------------------------------------------------------------------------

    [Theory]
    [InlineData("?from=2026-3-1", "Invalid date format '2026-3-1', must match YYYY-MM-DD.")]
    [InlineData("?to=yesterday", "Invalid date format 'yesterday', must match YYYY-MM-DD.")]
    [InlineData("?from=", "Invalid date format '', must match YYYY-MM-DD.")]
    [InlineData("?from=2026-02-30", "Invalid date format '2026-02-30', must match YYYY-MM-DD.")]
    [InlineData("?from=bad&to=worse", "Invalid date format 'bad', must match YYYY-MM-DD.")]
    [InlineData("?from=2026-03-09&to=2026-03-08", "Date range is invalid, 'to' cannot come before 'from'.")]
    [InlineData("?from=2026-03-11", "Date range is invalid, 'to' cannot come before 'from'.")]
    [InlineData("?from=2026-03-11&to=2026-03-12", "Date range is invalid, 'from' must be in the past.")]
    [InlineData("?from=2025-03-09&to=2026-03-10", "Date range is invalid, it cannot span more than 366 days.")]
    [InlineData("?from=0001-01-01&to=9999-12-31", "Date range is invalid, it cannot span more than 366 days.")]
    public async Task Summary_BadDates_Returns400WithTheMessageAsAJsonString(string query, string message)
    {
        await using var server = await StartAsync();

        foreach (var path in new[] { "api/v3/summary", "api/v3/summary/boot", "api/v3/summary/tag/project", "api/v3/summary/bogus" })
        {
            var response = await server.GetAsync(path + query);

            response.ShouldBeJson(HttpStatusCode.BadRequest);
            response.Json.GetValue<string>().ShouldBe(message, path);
            response.Body.ShouldBe("\"" + message + "\"", path);
        }
    }

    // ---- GET /api/v3/summary/<section>[/<key>] ------------------------------------------------------------------

    [Theory]
    [InlineData("boot")]
    [InlineData("clone")]
    public async Task Section_Task_ReturnsRangeThenDaily(string section)
    {
        await using var server = await StartAsync();
        await SeedTwoDaysAsync(server);

        var response = await server.GetAsync($"api/v3/summary/{section}?from=2026-03-09");
        var full = await server.GetAsync("api/v3/summary?from=2026-03-09");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe([section, "daily"]);
        Compact(response.Object[section]).ShouldBe(Compact(full.Object[section]));
        var daily = response.Object["daily"]!.AsArray();
        daily.Count.ShouldBe(2);
        for (var i = 0; i < daily.Count; i++)
        {
            KeysOf(daily[i]).ShouldBe(["date", section]);
            Compact(daily[i]![section]).ShouldBe(Compact(full.Object["daily"]![i]![section]));
        }
    }

    [Theory]
    [InlineData("duration")]
    [InlineData("count")]
    public async Task Section_TaskWithKey_KeepsOnlyThatSubObject(string key)
    {
        await using var server = await StartAsync();
        await SeedTwoDaysAsync(server);

        var response = await server.GetAsync($"api/v3/summary/boot/{key}?from=2026-03-09");
        var full = await server.GetAsync("api/v3/summary?from=2026-03-09");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["boot", "daily"]);
        KeysOf(response.Object["boot"]).ShouldBe([key]);
        Compact(response.Object["boot"]![key]).ShouldBe(Compact(full.Object["boot"]![key]));
        foreach (var day in response.Object["daily"]!.AsArray())
        {
            KeysOf(day!["boot"]).ShouldBe([key]);
        }
    }

    [Fact]
    public async Task Section_TaskWithUnknownKey_LeavesEmptyObjects()
    {
        await using var server = await StartAsync();
        await SeedTwoDaysAsync(server);

        var response = await server.GetAsync("api/v3/summary/clone/bogus");

        response.ShouldBeJson(HttpStatusCode.OK);
        Compact(response.Json).ShouldBe(Compact("""{ "clone": {}, "daily": [ { "date": "2026-03-10", "clone": {} } ] }"""));
    }

    [Fact]
    public async Task Section_Tag_ReturnsTagTotalsThenDaily()
    {
        await using var server = await StartAsync();
        await SeedTwoDaysAsync(server);

        var response = await server.GetAsync("api/v3/summary/tag?from=2026-03-09");

        response.ShouldBeJson(HttpStatusCode.OK);
        Compact(response.Json).ShouldBe(Compact("""
            {
              "tag": { "project": { "a": 2, "total": 3, "b": 1 }, "user": { "bob": 1, "total": 1 } },
              "daily": [
                { "date": "2026-03-09", "tag": { "project": { "a": 2, "total": 2 }, "user": { "bob": 1, "total": 1 } } },
                { "date": "2026-03-10", "tag": { "project": { "b": 1, "total": 1 } } }
              ]
            }
            """));
    }

    [Fact]
    public async Task Section_TagWithKey_OnlyThatTag()
    {
        await using var server = await StartAsync();
        await SeedTwoDaysAsync(server);

        var response = await server.GetAsync("api/v3/summary/tag/user?from=2026-03-09");

        response.ShouldBeJson(HttpStatusCode.OK);
        Compact(response.Json).ShouldBe(Compact("""
            {
              "tag": { "user": { "bob": 1, "total": 1 } },
              "daily": [ { "date": "2026-03-09", "tag": { "user": { "bob": 1, "total": 1 } } }, { "date": "2026-03-10", "tag": {} } ]
            }
            """));
    }

    [Theory]
    [InlineData("api/v3/summary/bogus")]
    [InlineData("api/v3/summary/bogus/duration")]
    [InlineData("api/v3/summary/daily")]
    [InlineData("api/v3/summary/Boot")]
    public async Task Section_Unknown_Returns404(string path)
    {
        await using var server = await StartAsync();

        (await server.GetAsync(path)).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Section_TooManySegments_IsAnUnknownRoute()
    {
        await using var server = await StartAsync();

        (await server.GetAsync("api/v3/summary/boot/duration/extra")).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }
}
