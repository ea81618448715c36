using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Providers;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// The in-process application with an <c>:auth:</c> section using the <c>dummy</c> Basic-auth provider. The config
/// loader refuses that provider unless <c>VMPOOLER_DEBUG</c> is set, and <see cref="VmPoolerServer.LoadOptions"/> loads
/// with an empty environment, so this loads the options with <c>VMPOOLER_DEBUG=1</c> (an explicit dictionary: the test
/// process environment is not touched) and builds the application the same way.
/// </summary>
public sealed class DebugAuthServer : IAsyncDisposable
{
    private DebugAuthServer(WebApplication app, HttpClient client)
    {
        App = app;
        Client = client;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public static async Task<DebugAuthServer> StartAsync(string yaml, VmPoolerRole role = VmPoolerRole.Api, ITestOutputHelper? output = null)
    {
        var options = ConfigLoader.LoadYaml(
            yaml,
            new Dictionary<string, string?> { ["VMPOOLER_DEBUG"] = "1" },
            "test.yaml",
            providers: new ProviderFactory(TimeProvider.System));
        options.Auth.ShouldNotBeNull("the YAML must configure :auth:");
        var app = VmPoolerApplication.Build(
            options,
            role,
            ["http://127.0.0.1:0"],
            configureLogging: logging =>
            {
                logging.ClearProviders();
                if (output is not null)
                {
                    logging.AddProvider(new XunitLoggerProvider(output));
                }
            });
        try
        {
            await app.StartAsync().DefaultTimeout();
            var address = app.ListeningAddresses().ShouldHaveSingleItem();
            return new DebugAuthServer(app, VmPoolerServer.CreateClient(new Uri(address.TrimEnd('/') + "/")));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Gets a token for <paramref name="user"/> through POST /api/v3/token (the dummy provider accepts any user ≠ password).</summary>
    public async Task<string> TokenAsync(string user = "alice", string password = "wonderland")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v3/token");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await Client.SendAsync(request).DefaultTimeout();
        var answer = await ApiResponse.ReadAsync(response).DefaultTimeout();
        answer.ShouldBeJson(HttpStatusCode.OK);
        return answer.Object["token"]!.GetValue<string>();
    }

    /// <summary>Sends a request, with <c>X-AUTH-TOKEN</c> when <paramref name="token"/> is given.</summary>
    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, string? body = null, string? token = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
        }

        if (token is not null)
        {
            request.Headers.Add("X-AUTH-TOKEN", token);
        }

        using var response = await Client.SendAsync(request).DefaultTimeout();
        return await ApiResponse.ReadAsync(response).DefaultTimeout();
    }

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
