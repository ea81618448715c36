using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Providers;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// The real vmpooler application (<see cref="VmPoolerApplication.Build"/>) listening on 127.0.0.1 on a free port,
/// configured from YAML text, with an <see cref="HttpClient"/> pointed at it and its <see cref="IInventory"/> for seeding
/// and inspecting state (the Aspire integration-test pattern).
/// </summary>
/// <remarks>
/// API tests that need exact state start it with <see cref="VmPoolerRole.Api"/>: the same routes and inventory, but no
/// pool manager, which would otherwise recycle seeded VMs (the dummy provider does not know them) and refill pools.
/// Lifecycle tests use <see cref="VmPoolerRole.All"/> with dummy pools and short delays.
/// </remarks>
public sealed class VmPoolerServer : IAsyncDisposable
{
    /// <summary>The IP every seeded VM carries.</summary>
    public const string SeededIp = "192.0.2.10";

    private VmPoolerServer(WebApplication app, VmPoolerOptions options, Uri baseAddress)
    {
        App = app;
        Options = options;
        BaseAddress = baseAddress;
        Client = CreateClient(baseAddress);
    }

    public WebApplication App { get; }

    public VmPoolerOptions Options { get; }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client for <see cref="BaseAddress"/> that neither follows redirects nor uses a proxy.</summary>
    public HttpClient Client { get; }

    public IInventory Inventory => App.Services.GetRequiredService<IInventory>();

    public TimeProvider Time => App.Services.GetRequiredService<TimeProvider>();

    /// <summary>Types YAML text into options exactly as the executable does (same provider validation).</summary>
    /// <param name="environment">The environment the loader sees (e.g. <c>VMPOOLER_DEBUG</c> for dummy auth); empty when null.</param>
    public static VmPoolerOptions LoadOptions(string yaml, IReadOnlyDictionary<string, string?>? environment = null)
        => ConfigLoader.LoadYaml(yaml, environment ?? new Dictionary<string, string?>(), "test.yaml", providers: new ProviderFactory(TimeProvider.System));

    /// <summary>Builds and starts the application for <paramref name="yaml"/> on 127.0.0.1:0.</summary>
    /// <param name="configureServices">Runs after vmpooler's registrations (e.g. to replace the <see cref="TimeProvider"/>).</param>
    /// <param name="output">Where the application's log goes; silent when null.</param>
    /// <param name="environment">The environment the config loader sees (see <see cref="LoadOptions"/>).</param>
    /// <summary>Redis's <c>operation_timeout</c> in servers whose YAML does not set one.</summary>
    public static readonly TimeSpan RelaxedOperationTimeout = TimeSpan.FromSeconds(5);

    public static async Task<VmPoolerServer> StartAsync(
        string yaml,
        VmPoolerRole role = VmPoolerRole.All,
        Action<IServiceCollection>? configureServices = null,
        ITestOutputHelper? output = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var options = LoadOptions(yaml, environment);
        if (options.Redis is { } redis && !yaml.Contains("operation_timeout", StringComparison.Ordinal))
        {
            // The product's 1 s bound is for a Redis on a healthy host; on a 2-core CI machine running VMs and several
            // servers at once a first script load can take longer. Tests of the bound itself set operation_timeout.
            options = options with { Redis = redis with { OperationTimeout = RelaxedOperationTimeout } };
        }

        var app = VmPoolerApplication.Build(
            options,
            role,
            ["http://127.0.0.1:0"],
            configureServices,
            logging =>
            {
                logging.ClearProviders();
                if (output is not null)
                {
                    logging.SetMinimumLevel(LogLevel.Debug);
                    logging.AddProvider(new XunitLoggerProvider(output));
                }
            });
        try
        {
            await app.StartAsync().DefaultTimeout();
            var address = app.ListeningAddresses().ShouldHaveSingleItem();
            return new VmPoolerServer(app, options, new Uri(address.TrimEnd('/') + "/"));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public static HttpClient CreateClient(Uri baseAddress)
        => new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = baseAddress,
            Timeout = AsyncTestHelpers.DefaultTimeoutSpan,
        };

    /// <summary>Sends a request; <paramref name="body"/> (when not null) goes out with <paramref name="contentType"/>.</summary>
    public Task<ApiResponse> SendAsync(HttpMethod method, string path, string? body = null, string contentType = "application/json")
        => SendAsync(Client, method, path, body, contentType);

    public static async Task<ApiResponse> SendAsync(HttpClient client, HttpMethod method, string path, string? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        using var response = await client.SendAsync(request).DefaultTimeout();
        return await ApiResponse.ReadAsync(response).DefaultTimeout();
    }

    public Task<ApiResponse> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<ApiResponse> PostAsync(string path, string? body = null, string contentType = "application/json")
        => SendAsync(HttpMethod.Post, path, body, contentType);

    public Task<ApiResponse> PutAsync(string path, string? body = null) => SendAsync(HttpMethod.Put, path, body);

    public Task<ApiResponse> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    /// <summary>
    /// Puts VMs into <paramref name="pool"/>'s ready state, in the given order (the first is the oldest), health-checked
    /// (so <c>GET /vm</c> says "ready") and with <see cref="SeededIp"/>.
    /// </summary>
    public async Task SeedReadyAsync(string pool, params string[] vms)
    {
        foreach (var vm in vms)
        {
            await SeedPendingAsync(pool, vm);
            var now = VmTime.Format(Time.GetUtcNow());
            var fields = new Dictionary<string, string> { [VmFields.Ready] = now, [VmFields.Check] = now };
            (await Inventory.MoveAsync(pool, vm, VmState.Pending, VmState.Ready, fields).DefaultTimeout())
                .ShouldBeTrue($"seeding {vm} as ready in {pool}");
        }
    }

    /// <summary>Registers a VM as pending (cloning) in <paramref name="pool"/>.</summary>
    public async Task SeedPendingAsync(string pool, string vm)
    {
        var fields = new Dictionary<string, string>
        {
            [VmFields.Clone] = VmTime.Format(Time.GetUtcNow()),
            [VmFields.Template] = pool,
            [VmFields.Pool] = pool,
            [VmFields.Ip] = SeededIp,
        };
        (await Inventory.AddPendingAsync(pool, vm, fields, CancellationToken.None).DefaultTimeout())
            .ShouldBeTrue($"seeding {vm} as pending in {pool}");
    }

    /// <summary>The state of a VM in the inventory (null when it is unknown or forgotten).</summary>
    public async Task<VmState?> StateOfAsync(string vm)
        => (await Inventory.GetVmAsync(vm, CancellationToken.None).DefaultTimeout())?.State;

    /// <summary>Ready/running/pending/completed counts of one pool, straight from the inventory.</summary>
    public async Task<PoolCounts> CountsAsync(string pool)
        => (await Inventory.GetCountsAsync([pool], CancellationToken.None).DefaultTimeout())[pool];

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await App.StopAsync().DefaultTimeout();
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}
