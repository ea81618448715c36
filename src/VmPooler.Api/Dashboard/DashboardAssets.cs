using System.Collections.Frozen;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace VmPooler.Api.Dashboard;

/// <summary>
/// The dashboard's page, script and style sheet, embedded in the assembly (so the service runs from any directory) and
/// served from memory with an ETag. The page carries the site name, as text.
/// </summary>
internal static partial class DashboardAssets
{
    private const string ResourcePrefix = "VmPooler.Api.Dashboard.wwwroot.";

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    private static readonly Lock PageGate = new();
    private static (string SiteName, Asset Page)? _page;

    /// <summary>The page, with <paramref name="siteName"/> (HTML tags stripped, like <c>&lt;b&gt;vmpooler&lt;/b&gt;</c>) as its title.</summary>
    public static IResult Page(string siteName)
    {
        lock (PageGate)
        {
            if (_page is not { } page || page.SiteName != siteName)
            {
                var text = Encoding.UTF8.GetString(Assets["index.html"].Content)
                    .Replace("{{SITE_NAME}}", WebUtility.HtmlEncode(SiteTitle(siteName)), StringComparison.Ordinal);
                page = (siteName, Asset.Create("text/html; charset=utf-8", Encoding.UTF8.GetBytes(text)));
                _page = page;
            }

            return page.Page;
        }
    }

    /// <summary>The site name as plain text: tags removed, whitespace collapsed, "vmpooler" when nothing is left.</summary>
    public static string SiteTitle(string siteName)
    {
        var text = WhiteSpace().Replace(WebUtility.HtmlDecode(Tags().Replace(siteName, "")), " ").Trim();
        return text.Length == 0 ? "vmpooler" : text;
    }

    /// <summary>The asset called <paramref name="name"/> (e.g. <c>dashboard.js</c>), or null.</summary>
    public static IResult? Find(string? name)
        => name is not null && name != "index.html" && Assets.TryGetValue(name, out var asset) ? asset : null;

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = resource[ResourcePrefix.Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            assets[name] = Asset.Create(ContentType(name), buffer.ToArray());
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();

    /// <summary>One asset: bytes, type and an ETag; answers 304 to a matching <c>If-None-Match</c>.</summary>
    private sealed class Asset(string contentType, byte[] content, string etag) : IResult
    {
        public byte[] Content { get; } = content;

        public static Asset Create(string contentType, byte[] content)
            => new(contentType, content, "\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..16] + "\"");

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.Headers[HeaderNames.ETag] = etag;
            // Revalidate every time: a new version of the service must never run with yesterday's script.
            response.Headers[HeaderNames.CacheControl] = "no-cache";
            response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
            if (httpContext.Request.Headers[HeaderNames.IfNoneMatch] == etag)
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }

            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = contentType;
            response.ContentLength = Content.Length;
            await response.Body.WriteAsync(Content);
        }
    }
}
