using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Dashboard;

/// <summary>The dashboard's page, assets and data routes over real HTTP (spec §2.9), on the API role with a manual clock.</summary>
public class DashboardRoutesTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 30, 15, TimeSpan.Zero);

    /// <summary>Pools whose names share prefixes ("majors"): debian (2 pools), centos, and win.</summary>
    private const string Pools = """
        :config:
          site_name: '<b>ACME</b> pool & co'
        :pools:
          - name: 'debian-12-x86_64'
            size: 3
          - name: 'debian-11-x86_64'
            size: 2
          - name: 'centos-9-x86_64'
            size: 2
          - name: 'win'
            size: 1
        """;

    private readonly FakeTimeProvider _clock = new(Now);

    private Task<VmPoolerServer> StartAsync(string yaml = Pools, IReadOnlyDictionary<string, string?>? environment = null)
        => VmPoolerServer.StartAsync(yaml, VmPoolerRole.Api, services => services.AddSingleton<TimeProvider>(_clock), output, environment);

    private static IHistoryStore History(VmPoolerServer server) => server.App.Services.GetRequiredService<IHistoryStore>();

    private static double[] Numbers(JsonNode? array)
        => [.. array.ShouldNotBeNull().AsArray().Select(n => double.Parse(n!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture))];

    [Fact]
    public async Task GetDashboard_ServesThePageWithTheSiteNameAsText()
    {
        await using var server = await StartAsync();

        var page = await server.GetAsync("dashboard/");

        page.Status.ShouldBe(HttpStatusCode.OK);
        page.ContentType.ShouldBe("text/html; charset=utf-8");
        page.Body.ShouldContain("<title>ACME pool &amp; co · dashboard</title>");
        page.Body.ShouldNotContain("<b>ACME</b>", Case.Sensitive, "the site name is shown as text, never as markup");
        page.Body.ShouldContain("""<script type="module" src="dashboard.js"></script>""");
    }

    [Fact]
    public async Task GetDashboard_SiteNameFromTheEnvironmentWins()
    {
        await using var server = await StartAsync(environment: new Dictionary<string, string?> { ["SITE_NAME"] = "Lab <script>x</script>" });

        var page = await server.GetAsync("dashboard/");

        page.Body.ShouldContain("<h1 id=\"site\">Lab x</h1>");
    }

    [Fact]
    public async Task GetDashboard_NoSiteName_IsVmpooler()
    {
        await using var server = await StartAsync(Pools.Replace("  site_name: '<b>ACME</b> pool & co'\n", "", StringComparison.Ordinal));

        (await server.GetAsync("dashboard/")).Body.ShouldContain("<h1 id=\"site\">vmpooler</h1>");
        (await server.GetAsync("dashboard/data")).ShouldBeJson(HttpStatusCode.OK).Object["site"]!.GetValue<string>().ShouldBe("vmpooler");
    }

    [Fact]
    public async Task GetDashboard_WithoutSlashAndRoot_RedirectToTheDashboard()
    {
        await using var server = await StartAsync();

        foreach (var path in new[] { "dashboard", "/" })
        {
            using var response = await server.Client.GetAsync(path).DefaultTimeout();
            response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            response.Headers.Location!.ToString().ShouldBe("/dashboard/");
        }
    }

    [Theory]
    [InlineData("dashboard/dashboard.js", "text/javascript; charset=utf-8", "import")]
    [InlineData("dashboard/charts.js", "text/javascript; charset=utf-8", "export function")]
    [InlineData("dashboard/dashboard.css", "text/css; charset=utf-8", ":root")]
    public async Task GetAsset_ServesItWithAnETag(string path, string contentType, string snippet)
    {
        await using var server = await StartAsync();

        var asset = await server.GetAsync(path);

        asset.Status.ShouldBe(HttpStatusCode.OK);
        asset.ContentType.ShouldBe(contentType);
        asset.Body.ShouldContain(snippet);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("If-None-Match", asset.Headers["ETag"]);
        using var again = await server.Client.SendAsync(request).DefaultTimeout();
        again.StatusCode.ShouldBe(HttpStatusCode.NotModified);
    }

    [Theory]
    [InlineData("dashboard/nope")]
    [InlineData("dashboard/index.html")]
    [InlineData("dashboard/lib/jquery.min.js")]
    [InlineData("dashboard/img/logo.png")]
    [InlineData("dashboard/stats/vmpooler/nope")]
    [InlineData("dashboard/stats/vmpooler/pool/extra")]
    [InlineData("dashboard/data/more")]
    public async Task GetUnknownDashboardPath_IsAJson404(string path)
    {
        await using var server = await StartAsync();

        var response = await server.GetAsync(path);

        response.Status.ShouldBe(HttpStatusCode.NotFound);
        response.ContentType.ShouldBe("application/json");
        response.Object["ok"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Theory]
    [InlineData("POST", "dashboard/")]
    [InlineData("POST", "dashboard/data")]
    [InlineData("DELETE", "dashboard/stats/vmpooler/pool")]
    [InlineData("PUT", "dashboard/dashboard.js")]
    public async Task DashboardPath_WrongMethod_IsA404OkFalse(string method, string path)
    {
        await using var server = await StartAsync();

        (await server.SendAsync(new HttpMethod(method), path)).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task GetStatsPool_SizeAndReadyPerPoolInConfigOrder()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian-12-x86_64", "a1", "a2");
        await server.SeedReadyAsync("win", "w1");

        var body = (await server.GetAsync("dashboard/stats/vmpooler/pool")).ShouldBeJson(HttpStatusCode.OK).Object;

        body.Select(p => p.Key).ShouldBe(["debian-12-x86_64", "debian-11-x86_64", "centos-9-x86_64", "win"]);
        body["debian-12-x86_64"]!.ToJsonString().ShouldBe("""{"size":3,"ready":2}""");
        body["win"]!.ToJsonString().ShouldBe("""{"size":1,"ready":1}""");
        body["centos-9-x86_64"]!.ToJsonString().ShouldBe("""{"size":2,"ready":0}""");
    }

    [Fact]
    public async Task GetStatsPool_HistoryWithoutRecords_IsTheCurrentValue()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian-12-x86_64", "a1", "a2");

        var body = (await server.GetAsync("dashboard/stats/vmpooler/pool?history=1")).ShouldBeJson(HttpStatusCode.OK).Object;

        Numbers(body["debian-12-x86_64"]!["history"]).ShouldBe([2.0]);
        Numbers(body["win"]!["history"]).ShouldBe([0.0]);
    }

    [Fact]
    public async Task GetStatsPool_History_TheLastHourOfMinutesEachRepeated()
    {
        await using var server = await StartAsync();
        var history = History(server);
        // Two hours ago (outside the window), then 12:20, 12:21 and 12:23 (12:22 missing).
        await history.RecordSamplesAsync([new PoolSample("debian-12-x86_64", 9, 0, 0)], Now.AddHours(-2), CancellationToken.None).DefaultTimeout();
        foreach (var (minute, ready) in new[] { (20, 1), (21, 2), (23, 3) })
        {
            var at = new DateTimeOffset(2026, 3, 10, 12, minute, 5, TimeSpan.Zero);
            await history.RecordSamplesAsync([new PoolSample("debian-12-x86_64", ready, 0, 0)], at, CancellationToken.None).DefaultTimeout();
        }

        var body = (await server.GetAsync("dashboard/stats/vmpooler/pool?history")).ShouldBeJson(HttpStatusCode.OK).Object;

        var series = Numbers(body["debian-12-x86_64"]!["history"]);
        series.Chunk(8).Select(c => c.Distinct().ShouldHaveSingleItem()).ShouldBe([1.0, 2.0, 2.0, 3.0], "12:22 carries 12:21's value");
        series.Length.ShouldBe(4 * 8);
        body["debian-12-x86_64"]!["ready"]!.GetValue<int>().ShouldBe(0, "the live value is still the inventory's");
    }

    [Fact]
    public async Task GetStatsRunning_SumsRunningByThePrefixBeforeTheFirstDash()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian-12-x86_64", "a1", "a2");
        await server.SeedReadyAsync("debian-11-x86_64", "b1");
        await server.SeedReadyAsync("win", "w1");
        foreach (var pool in new[] { "debian-12-x86_64", "debian-12-x86_64", "debian-11-x86_64", "win" })
        {
            (await server.PostAsync("api/v3/vm/" + pool)).ShouldBeJson(HttpStatusCode.OK);
        }

        var body = (await server.GetAsync("dashboard/stats/vmpooler/running")).ShouldBeJson(HttpStatusCode.OK).Object;

        body.ToJsonString().ShouldBe("""{"debian":{"running":3},"centos":{"running":0},"win":{"running":1}}""");
    }

    [Fact]
    public async Task GetStatsRunning_History_SumsThePoolsOfAMajorPerMinute()
    {
        await using var server = await StartAsync();
        var history = History(server);
        var at = new DateTimeOffset(2026, 3, 10, 12, 10, 0, TimeSpan.Zero);
        await history.RecordSamplesAsync(
            [new PoolSample("debian-12-x86_64", 0, 0, 2), new PoolSample("debian-11-x86_64", 0, 0, 3), new PoolSample("win", 0, 0, 1)],
            at,
            CancellationToken.None).DefaultTimeout();
        await history.RecordSamplesAsync([new PoolSample("debian-12-x86_64", 0, 0, 1)], at.AddMinutes(1), CancellationToken.None).DefaultTimeout();

        var body = (await server.GetAsync("dashboard/stats/vmpooler/running?history=1")).ShouldBeJson(HttpStatusCode.OK).Object;

        Numbers(body["debian"]!["history"]).Chunk(8).Select(c => c.Distinct().Single()).ShouldBe([5.0, 1.0]);
        Numbers(body["win"]!["history"]).Chunk(8).Select(c => c.Distinct().Single()).ShouldBe([1.0]);
        Numbers(body["centos"]!["history"]).ShouldBe([0.0], "no records: the current value");
    }

    [Fact]
    public async Task GetData_LiveCountsTotalsDurationsAndCheckouts()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian-12-x86_64", "a1", "a2", "a3");
        await server.SeedReadyAsync("centos-9-x86_64", "c1");
        await server.SeedPendingAsync("centos-9-x86_64", "c2");
        await server.Inventory.RecordDurationAsync(DurationKind.Clone, "debian-12-x86_64", "a1", 10, Now, CancellationToken.None).DefaultTimeout();
        await server.Inventory.RecordDurationAsync(DurationKind.Clone, "debian-12-x86_64", "a2", 20, Now, CancellationToken.None).DefaultTimeout();
        await server.Inventory.RecordDurationAsync(DurationKind.Boot, "debian-12-x86_64", "a1", 30, Now, CancellationToken.None).DefaultTimeout();
        (await server.PostAsync("api/v3/vm", """{"debian-12-x86_64": 2}""")).ShouldBeJson(HttpStatusCode.OK);

        var data = (await server.GetAsync("dashboard/data")).ShouldBeJson(HttpStatusCode.OK).Object;

        data.Select(p => p.Key).ShouldBe(["site", "now", "refresh", "totals", "clone", "boot", "checkouts", "pools", "providersDown"], "no history unless asked");
        data["providersDown"]!.AsArray().ShouldBeEmpty("no manager has published breakers");
        data["site"]!.GetValue<string>().ShouldBe("ACME pool & co");
        data["totals"]!.ToJsonString().ShouldBe("""{"pools":4,"size":8,"ready":2,"pending":1,"running":2,"percent":25}""");
        data["clone"]!.ToJsonString().ShouldBe("""{"count":2,"average":15,"min":10,"max":20}""");
        data["boot"]!.ToJsonString().ShouldBe("""{"count":1,"average":30,"min":30,"max":30}""");
        data["checkouts"]!.ToJsonString().ShouldBe("""{"lastHour":2,"today":2}""", "the API counts its checkouts into the history");
        var pools = data["pools"]!.AsArray();
        pools.Select(p => p!["name"]!.GetValue<string>()).ShouldBe(["debian-12-x86_64", "debian-11-x86_64", "centos-9-x86_64", "win"]);
        var debian = pools[0]!;
        (debian["size"]!.GetValue<int>(), debian["ready"]!.GetValue<int>(), debian["pending"]!.GetValue<int>(), debian["running"]!.GetValue<int>())
            .ShouldBe((3, 1, 0, 2));
        pools[1]!["lastBoot"].ShouldBeNull();
    }

    [Fact]
    public async Task GetData_History_TotalsPerMinuteAndHourAndSevenDays()
    {
        await using var server = await StartAsync();
        var history = History(server);
        var minute = new DateTimeOffset(2026, 3, 10, 12, 29, 0, TimeSpan.Zero);
        await history.RecordSamplesAsync(
            [new PoolSample("debian-12-x86_64", 3, 0, 0), new PoolSample("win", 1, 0, 1)], minute, CancellationToken.None).DefaultTimeout();
        await history.RecordCheckoutsAsync("win", 4, Now.AddDays(-2), CancellationToken.None).DefaultTimeout();
        await server.Inventory.RecordDurationAsync(DurationKind.Boot, "win", "w1", 42, Now.AddDays(-3), CancellationToken.None).DefaultTimeout();

        var body = (await server.GetAsync("dashboard/data?history=1")).ShouldBeJson(HttpStatusCode.OK).Object;

        var minutes = body["history"]!["minutes"]!;
        minutes["step"]!.GetValue<long>().ShouldBe(60);
        var ready = minutes["ready"]!.AsArray();
        ready.Count.ShouldBe(24 * 60);
        ready[^2]!.GetValue<double>().ShouldBe(4, "12:29, the minute before now, sums both pools");
        ready[^1].ShouldBeNull("nothing sampled in 12:30 yet");
        (minutes["start"]!.GetValue<long>() + (ready.Count - 1) * 60).ShouldBe(new DateTimeOffset(2026, 3, 10, 12, 30, 0, TimeSpan.Zero).ToUnixTimeSeconds());
        var hours = body["history"]!["hours"]!;
        hours["step"]!.GetValue<long>().ShouldBe(3600);
        hours["checkouts"]!.AsArray().Sum(c => c!.GetValue<long>()).ShouldBe(4);
        var days = body["history"]!["days"]!.AsArray();
        days.Select(d => d!["date"]!.GetValue<string>()).ShouldBe(["2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]);
        days[4]!["checkouts"]!.GetValue<long>().ShouldBe(4);
        days[3]!["boot"]!.ToJsonString().ShouldBe("""{"count":1,"average":42,"min":42,"max":42}""");
        days[6]!["clone"]!["count"]!.GetValue<int>().ShouldBe(0);
    }
}
