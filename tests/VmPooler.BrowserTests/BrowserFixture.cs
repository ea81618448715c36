using Microsoft.Playwright;

namespace VmPooler.BrowserTests;

/// <summary>
/// One headless Chromium for the whole collection: Debian's <c>/usr/bin/chromium</c> (apt package <c>chromium</c>, which
/// <c>.ci/run</c> installs), driven by Playwright's bundled driver. Nothing is downloaded: <c>playwright install</c> is
/// never run.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser has not started");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"{ChromiumPath} is missing: install Debian's Chromium with `apt-get install -y chromium` (.ci/run does this)");
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu"],
            Timeout = 60_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>Where screenshots and timings go: <c>TestResults/</c> next to the test assembly.</summary>
    public static string ResultsDirectory
    {
        get
        {
            var directory = Path.Combine(AppContext.BaseDirectory, "TestResults");
            Directory.CreateDirectory(directory);
            return directory;
        }
    }
}

/// <summary>The browser tests share one Chromium and run one after another (the machine may have only two cores).</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
