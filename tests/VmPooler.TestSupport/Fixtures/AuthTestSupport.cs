using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// Helpers for tests of the authenticated routes: configurations with <c>provider: dummy</c> (which the loader accepts
/// only with <c>VMPOOLER_DEBUG</c> in its environment), Basic-auth and token headers, and requests that carry them.
/// </summary>
public static partial class AuthTestSupport
{
    /// <summary>The dummy provider accepts any pair whose user and password differ.</summary>
    public const string User = "admin";

    public const string Password = "s3cr3t";

    /// <summary>The environment that lets the loader accept dummy authentication.</summary>
    public static readonly IReadOnlyDictionary<string, string?> DebugEnvironment = new Dictionary<string, string?> { ["VMPOOLER_DEBUG"] = "1" };

    /// <summary>Every API generation that has the token and VM routes: the prefix without a trailing slash ("" = un-versioned).</summary>
    public static readonly IReadOnlyList<string> Prefixes = ["api/v3", "api/v2", "api/v1", ""];

    /// <summary><see cref="Prefixes"/> as theory data.</summary>
    public static TheoryData<string> Generations
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var prefix in Prefixes)
            {
                data.Add(prefix);
            }

            return data;
        }
    }

    /// <summary>Token shape (spec §7.1): 32 characters of <c>[a-z0-9]</c>, the first from a–y.</summary>
    [GeneratedRegex("^[a-y][a-z0-9]{31}$")]
    public static partial Regex TokenShape();

    /// <summary><paramref name="yaml"/> with a top-level <c>:auth:</c> section using the dummy provider.</summary>
    public static string WithDummyAuth(string yaml) => yaml.TrimEnd('\n') + "\n:auth:\n  provider: 'dummy'\n";

    /// <summary>A route under a generation prefix ("" = un-versioned).</summary>
    public static string Route(string prefix, string path) => prefix.Length == 0 ? path : prefix + "/" + path;

    /// <summary>Starts an API-only server (no manager) from <paramref name="yaml"/> with <see cref="DebugEnvironment"/>.</summary>
    public static Task<VmPoolerServer> StartApiAsync(string yaml, Xunit.Abstractions.ITestOutputHelper? output = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? configureServices = null)
        => VmPoolerServer.StartAsync(yaml, VmPoolerRole.Api, configureServices, output, DebugEnvironment);

    /// <summary>The value of an <c>Authorization: Basic</c> header for <paramref name="user"/>:<paramref name="password"/>.</summary>
    public static string Basic(string user = User, string password = Password)
        => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    /// <summary>The value of an <c>Authorization: Basic</c> header carrying <paramref name="raw"/> base64-encoded as is.</summary>
    public static string BasicRaw(string raw) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(raw));

    /// <summary>Sends a request with an optional <c>Authorization</c> header, <c>X-AUTH-TOKEN</c> header and JSON body.</summary>
    public static async Task<ApiResponse> RequestAsync(
        this VmPoolerServer server, HttpMethod method, string path, string? authorization = null, string? token = null, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization).ShouldBeTrue();
        }

        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("X-AUTH-TOKEN", token).ShouldBeTrue();
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
        }

        using var response = await server.Client.SendAsync(request).DefaultTimeout();
        return await ApiResponse.ReadAsync(response).DefaultTimeout();
    }

    /// <summary>POST /token as <paramref name="user"/>; asserts 200 and returns the new token.</summary>
    public static async Task<string> CreateTokenAsync(this VmPoolerServer server, string user = User, string password = Password, string prefix = "api/v3")
    {
        var response = await server.RequestAsync(HttpMethod.Post, Route(prefix, "token"), Basic(user, password));
        response.ShouldBeJson(System.Net.HttpStatusCode.OK);
        return response.Object["token"]!.GetValue<string>();
    }

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Compact JSON text of <paramref name="node"/> without HTML-safe escaping (so <c>+</c> stays <c>+</c>).</summary>
    public static string Compact(this System.Text.Json.Nodes.JsonNode? node) => node is null ? "null" : node.ToJsonString(Relaxed);

    /// <summary>Asserts a 401 <c>{"ok": false}</c> carrying the Basic challenge (spec §2.1).</summary>
    public static void ShouldBeUnauthorized(this ApiResponse response)
    {
        response.ShouldBeOkFalse(System.Net.HttpStatusCode.Unauthorized);
        response.Headers.TryGetValue("WWW-Authenticate", out var challenge).ShouldBeTrue($"a 401 carries WWW-Authenticate (headers: {string.Join(", ", response.Headers.Keys)})");
        challenge.ShouldBe("Basic realm=\"Authentication required\"");
    }
}
