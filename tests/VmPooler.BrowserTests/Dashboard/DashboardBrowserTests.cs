using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace VmPooler.BrowserTests.Dashboard;

/// <summary>
/// The dashboard in a real Chromium against the real service on 127.0.0.1: it lists the pools with their fill levels,
/// follows changes without a reload, and renders 200 pools. Waits are Playwright's auto-waiting expectations with
/// generous timeouts; timings are reported in the test output, never asserted.
/// </summary>
[Collection(BrowserCollection.Name)]
public class DashboardBrowserTests(BrowserFixture browser, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<IBrowserContext> _contexts = [];

    /// <summary>Generous: the machine may be loaded, and the demo pools fill on simulated clone times.</summary>
    private const float Patience = 60_000;

    private static LocatorAssertionsToHaveTextOptions Text => new() { Timeout = Patience };

    private static LocatorAssertionsToHaveAttributeOptions Attribute => new() { Timeout = Patience };

    private async Task<IPage> OpenAsync(VmPoolerServer server, int width = 1920, int height = 1080, string query = "?refresh=1")
    {
        // A context per page, closed when the test ends, so no page outlives its test (or writes to its output).
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(Patience);
        page.Console += (_, message) => Log($"[browser {message.Type}] {message.Text}");
        page.PageError += (_, error) => Log($"[browser error] {error}");
        await page.GotoAsync(new Uri(server.BaseAddress, "dashboard/" + query).ToString());
        return page;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.CloseAsync();
        }
    }

    private void Log(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test has finished; the page is closing.
        }
    }

    private string Screenshot(string name)
    {
        var path = Path.Combine(BrowserFixture.ResultsDirectory, name);
        output.WriteLine($"screenshot: {path}");
        return path;
    }

    private static ILocator Pool(IPage page, string name) => page.Locator($"article.pool[data-pool=\"{name}\"]");

    [Fact]
    public async Task Dashboard_DemoPools_ShowsFillLevelsAndFollowsACheckoutWithoutReload()
    {
        var demo = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "examples", "vmpooler.yaml"));
        await using var server = await VmPoolerServer.StartAsync(demo, VmPoolerRole.All, output: output);
        var page = await OpenAsync(server);

        // The demo pools, in configured order, fill to their sizes.
        await Expect(page.Locator("article.pool")).ToHaveCountAsync(3, new() { Timeout = Patience });
        (await page.Locator("article.pool h2").AllTextContentsAsync()).ShouldBe(["debian-12-x86_64", "ubuntu-2404-x86_64", "centos-9-x86_64"]);
        foreach (var (pool, size) in new[] { ("debian-12-x86_64", 5), ("ubuntu-2404-x86_64", 3), ("centos-9-x86_64", 2) })
        {
            await Expect(Pool(page, pool)).ToHaveAttributeAsync("data-ready", size.ToString(CultureInfo.InvariantCulture), Attribute);
            await Expect(Pool(page, pool).Locator(".size")).ToHaveTextAsync($" / {size}", Text);
            await Expect(Pool(page, pool)).ToHaveAttributeAsync("data-level", "ok", Attribute);
        }

        await Expect(page.Locator("#t-ready")).ToHaveTextAsync("10", Text);
        await Expect(page.Locator("#t-size")).ToHaveTextAsync("10", Text);
        var fill = await Pool(page, "debian-12-x86_64").Locator(".bar-fill").EvaluateAsync<string>("e => e.style.getPropertyValue('--fill')");
        fill.ShouldBe("1.000", "a full pool's bar is full");
        await Expect(Pool(page, "debian-12-x86_64").Locator(".running")).ToHaveTextAsync("0", Text);

        // A checkout through the API shows up on the same page (no navigation: the marker survives).
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        var checkout = await server.PostAsync("api/v3/vm/debian-12-x86_64");
        checkout.Status.ShouldBe(HttpStatusCode.OK, checkout.Body);
        await Expect(Pool(page, "debian-12-x86_64").Locator(".running")).ToHaveTextAsync("1", Text);
        await Expect(page.Locator("#t-running")).ToHaveTextAsync("1", Text);
        await Expect(page.Locator("#t-checkouts")).ToHaveTextAsync("1", Text);
        (await page.EvaluateAsync<bool>("() => window.__sameDocument === true")).ShouldBeTrue("the page updated itself, without a reload");

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-demo.png"), FullPage = true });
    }

    [Fact]
    public async Task Dashboard_ProviderOutage_BannerNamesTheProviderUntilItsBreakerCloses()
    {
        var directory = Directory.CreateTempSubdirectory("vmpooler-banner-").FullName;
        try
        {
            var outage = Path.Combine(directory, "outage");
            var yaml = $$"""
                :providers:
                  :dummy:
                    createvm_max_time: 0.02
                    boot_max_time: 0.02
                    outage_file: '{{outage}}'
                :config:
                  circuit_breaker_failure_threshold: 3
                  circuit_breaker_timeout: 1
                  circuit_breaker_half_open_attempts: 1
                  check_loop_delay_min: 0.1
                  check_loop_delay_max: 0.2
                :pools:
                  - name: p
                    size: 2
                """;
            await using var server = await VmPoolerServer.StartAsync(yaml, VmPoolerRole.All, output: output);
            var page = await OpenAsync(server);
            var banner = page.Locator("#providers-down");
            await Expect(Pool(page, "p")).ToHaveAttributeAsync("data-ready", "2", Attribute);
            await Expect(banner).ToBeHiddenAsync(new() { Timeout = Patience });

            // The provider goes down: a checkout makes the manager clone, the clones fail, the breaker opens.
            await File.WriteAllTextAsync(outage, "down");
            (await server.PostAsync("api/v3/vm/p")).Status.ShouldBe(HttpStatusCode.OK);
            await Expect(banner).ToBeVisibleAsync(new() { Timeout = Patience });
            await Expect(banner.Locator("p[data-provider=\"dummy\"] .provider")).ToHaveTextAsync("Provider dummy is down", Text);
            await Expect(banner).ToContainTextAsync("pools: p", new() { Timeout = Patience });
            await Expect(banner).ToContainTextAsync("provider outage", new() { Timeout = Patience });
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-provider-down.png"), FullPage = true });

            // It comes back: the next probe succeeds, the breaker closes, the banner goes.
            File.Delete(outage);
            await Expect(banner).ToBeHiddenAsync(new() { Timeout = Patience });
            await Expect(Pool(page, "p")).ToHaveAttributeAsync("data-ready", "2", Attribute);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Dashboard_VaryingFillAndHistory_ShowsLevelsAndCharts()
    {
        var now = new DateTimeOffset(2026, 3, 10, 14, 37, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(now);
        (string Name, int Size, int Ready, int Pending, int Running)[] pools =
        [
            ("debian-12-x86_64", 10, 10, 0, 6),
            ("debian-11-x86_64", 5, 4, 1, 2),
            ("ubuntu-2404-x86_64", 8, 3, 4, 9),
            ("ubuntu-2204-x86_64", 4, 4, 0, 1),
            ("centos-9-x86_64", 6, 0, 6, 3),
            ("rhel-9-x86_64", 4, 2, 2, 0),
            ("win-2022-x86_64", 3, 1, 2, 5),
            ("macos-14-arm64", 2, 2, 0, 1),
        ];
        var yaml = new StringBuilder(":config:\n  site_name: 'vmpooler · build farm'\n:pools:\n");
        foreach (var pool in pools)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - name: '{pool.Name}'\n    size: {pool.Size}\n");
        }

        await using var server = await VmPoolerServer.StartAsync(
            yaml.ToString(), VmPoolerRole.Api, services => services.AddSingleton<TimeProvider>(clock), output);
        await SeedAsync(server, pools, now);
        var page = await OpenAsync(server);

        await Expect(page.Locator("article.pool")).ToHaveCountAsync(pools.Length, new() { Timeout = Patience });
        await Expect(Pool(page, "debian-12-x86_64")).ToHaveAttributeAsync("data-level", "ok", Attribute);
        await Expect(Pool(page, "ubuntu-2404-x86_64")).ToHaveAttributeAsync("data-level", "low", Attribute);
        await Expect(Pool(page, "centos-9-x86_64")).ToHaveAttributeAsync("data-level", "empty", Attribute);
        await Expect(Pool(page, "ubuntu-2404-x86_64").Locator(".pending")).ToHaveTextAsync("4", Text);
        await Expect(Pool(page, "ubuntu-2404-x86_64").Locator(".running")).ToHaveTextAsync("9", Text);
        await Expect(Pool(page, "debian-11-x86_64").Locator(".lastboot")).ToHaveTextAsync("3 min ago", Text);
        await Expect(page.Locator("#site")).ToHaveTextAsync("vmpooler · build farm", Text);
        await Expect(page.Locator("#chart-day path.line.ready")).ToHaveCountAsync(1, new() { Timeout = Patience });
        await Expect(page.Locator("#chart-checkouts path.bars")).ToHaveCountAsync(1, new() { Timeout = Patience });
        await Expect(page.Locator("#chart-times circle.avg.boot")).ToHaveCountAsync(7, new() { Timeout = Patience });
        await Expect(page.Locator("#t-clone")).Not.ToHaveTextAsync("–", Text);

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-wall.png") });
        var laptop = await OpenAsync(server, 1366, 768);
        await Expect(laptop.Locator("article.pool")).ToHaveCountAsync(pools.Length, new() { Timeout = Patience });
        await Expect(laptop.Locator("#chart-times circle.avg.boot")).ToHaveCountAsync(7, new() { Timeout = Patience });
        await laptop.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-laptop.png"), FullPage = true });
    }

    [Fact]
    public async Task Dashboard_200Pools_RendersEveryPoolAndUpdatesInPlace()
    {
        const int Count = 200;
        var yaml = new StringBuilder(":pools:\n");
        for (var i = 0; i < Count; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - name: 'pool-{i:000}'\n    size: {i % 7 + 1}\n");
        }

        await using var server = await VmPoolerServer.StartAsync(yaml.ToString(), VmPoolerRole.Api, output: output);
        for (var i = 0; i < Count; i += 3)
        {
            await server.SeedReadyAsync($"pool-{i:000}", [.. Enumerable.Range(0, i % 7 + 1).Select(n => $"p{i:000}v{n}")]);
        }

        // Warm the fresh server (JIT of the first requests) so the timings below are the dashboard's, not start-up's.
        (await server.GetAsync("dashboard/")).Status.ShouldBe(HttpStatusCode.OK);
        (await server.GetAsync("dashboard/data?history=1")).Status.ShouldBe(HttpStatusCode.OK);
        var loading = Stopwatch.StartNew();
        var page = await OpenAsync(server);
        await Expect(page.Locator("article.pool")).ToHaveCountAsync(Count, new() { Timeout = Patience });
        var visible = loading.Elapsed;
        await Expect(Pool(page, "pool-199")).ToHaveAttributeAsync("data-ready", "0", Attribute);
        await Expect(Pool(page, "pool-198")).ToHaveAttributeAsync("data-ready", "3", Attribute);
        await Expect(Pool(page, "pool-198")).ToHaveAttributeAsync("data-level", "ok", Attribute);
        await Expect(Pool(page, "pool-001")).ToHaveAttributeAsync("data-level", "empty", Attribute);
        (await page.Locator("article.pool h2").Nth(Count - 1).TextContentAsync()).ShouldBe("pool-199");

        // Refreshes update the same nodes: keep a card, change its pool, and compare after the change shows.
        await page.EvaluateAsync("() => { window.__card = document.querySelector('article.pool[data-pool=\"pool-150\"]'); }");
        var before = await RefreshesAsync(page);
        await server.SeedReadyAsync("pool-151", "late-vm");
        await Expect(Pool(page, "pool-151")).ToHaveAttributeAsync("data-ready", "1", Attribute);
        await page.WaitForFunctionAsync($"() => window.vmpoolerDashboard.refreshes >= {before + 5}", null, new() { Timeout = Patience });
        (await page.EvaluateAsync<bool>("() => window.__card === document.querySelector('article.pool[data-pool=\"pool-150\"]') && window.__card.isConnected"))
            .ShouldBeTrue("the card was updated in place, not rebuilt");
        (await page.Locator("article.pool").CountAsync()).ShouldBe(Count);

        var firstRender = await page.EvaluateAsync<double>("() => window.vmpoolerDashboard.firstRenderMs");
        var firstFetch = await page.EvaluateAsync<double>("() => window.vmpoolerDashboard.firstFetchMs");
        var firstDom = await page.EvaluateAsync<double>("() => window.vmpoolerDashboard.firstDomMs");
        var htmlReceived = await page.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].responseEnd");
        var domReady = await page.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd");
        var samples = new List<(double Fetch, double Render)>();
        for (var i = 0; i < 5; i++)
        {
            var seen = await RefreshesAsync(page);
            await page.WaitForFunctionAsync($"() => window.vmpoolerDashboard.refreshes > {seen}", null, new() { Timeout = Patience });
            samples.Add((await page.EvaluateAsync<double>("() => window.vmpoolerDashboard.fetchMs"), await page.EvaluateAsync<double>("() => window.vmpoolerDashboard.renderMs")));
        }

        var report = string.Create(
            CultureInfo.InvariantCulture,
            $"200 pools: page open to 200 cards {visible.TotalMilliseconds:0} ms (test clock); page HTML received {htmlReceived:0} ms, scripts loaded {domReady:0} ms and first render done {firstRender:0} ms after navigation start "
            + $"(its fetch with history {firstFetch:0} ms, building 200 cards and the charts {firstDom:0.0} ms); "
            + $"per refresh over {samples.Count} refreshes: fetch+parse avg {samples.Average(s => s.Fetch):0.0} ms (max {samples.Max(s => s.Fetch):0.0}), "
            + $"DOM update avg {samples.Average(s => s.Render):0.00} ms (max {samples.Max(s => s.Render):0.00})");
        output.WriteLine(report);
        await File.WriteAllTextAsync(Path.Combine(BrowserFixture.ResultsDirectory, "dashboard-200-pools-timings.txt"), report + "\n");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-200-pools.png") });
    }

    private static Task<int> RefreshesAsync(IPage page) => page.EvaluateAsync<int>("() => window.vmpoolerDashboard.refreshes");

    /// <summary>Seeds live states, last boots, a day of minute samples, a week of hourly checkouts and of clone/boot times.</summary>
    private static async Task SeedAsync(
        VmPoolerServer server, (string Name, int Size, int Ready, int Pending, int Running)[] pools, DateTimeOffset now)
    {
        var inventory = server.Inventory;
        var history = server.App.Services.GetRequiredService<IHistoryStore>();
        var ct = CancellationToken.None;
        var random = new Random(5);
        // A week of clone and boot times first: the live boots below must be the last ones ("last boot").
        for (var day = 6; day >= 0; day--)
        {
            var at = now.AddDays(-day).AddHours(-1);
            for (var i = 0; i < 20; i++)
            {
                var pool = pools[i % pools.Length].Name;
                await inventory.RecordDurationAsync(DurationKind.Clone, pool, $"d{day}c{i}", 25 + random.NextDouble() * 30 + day * 2, at, ct).DefaultTimeout();
                await inventory.RecordDurationAsync(DurationKind.Boot, pool, $"d{day}b{i}", 70 + random.NextDouble() * 60 - day * 3, at, ct).DefaultTimeout();
            }
        }

        var vm = 0;
        foreach (var pool in pools)
        {
            for (var i = 0; i < pool.Ready + pool.Running; i++)
            {
                await server.SeedReadyAsync(pool.Name, $"v{vm++:0000}");
            }

            for (var i = 0; i < pool.Pending; i++)
            {
                await server.SeedPendingAsync(pool.Name, $"v{vm++:0000}");
            }

            if (pool.Ready + pool.Running > 0)
            {
                await inventory.RecordDurationAsync(DurationKind.Boot, pool.Name, $"boot{vm}", 60, now.AddMinutes(-3), ct).DefaultTimeout();
            }
        }

        foreach (var pool in pools.Where(p => p.Running > 0))
        {
            var items = Enumerable.Range(0, pool.Running).Select(_ => new CheckoutItem(pool.Name, [pool.Name])).ToList();
            (await inventory.CheckoutAsync(items, new CheckoutContext(now), ct).DefaultTimeout()).Succeeded.ShouldBeTrue();
        }

        // A day of samples: a daily rhythm of checkouts draining the pools in working hours.
        for (var minute = 24 * 60; minute >= 1; minute--)
        {
            var at = now.AddMinutes(-minute);
            var busy = Math.Max(0, Math.Sin((at.Hour + at.Minute / 60.0 - 7) / 12 * Math.PI));
            var samples = pools.Select(p =>
            {
                var running = (int)Math.Round(p.Size * busy * 1.2);
                var ready = Math.Clamp(p.Size - (int)Math.Round(p.Size * busy * 0.6), 0, p.Size);
                return new PoolSample(p.Name, ready, p.Size - ready, running);
            }).ToList();
            await history.RecordSamplesAsync(samples, at, ct).DefaultTimeout();
        }

        for (var hour = 7 * 24; hour >= 1; hour--)
        {
            var at = now.AddHours(-hour);
            var busy = Math.Max(0, Math.Sin((at.Hour - 7) / 12.0 * Math.PI)) * (at.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.2 : 1);
            await history.RecordCheckoutsAsync(pools[hour % pools.Length].Name, (int)(busy * 40) + random.Next(3), at, ct).DefaultTimeout();
        }
    }
}
