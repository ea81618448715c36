using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace VmPooler.Api.Http;

/// <summary>
/// The one place that shapes API answers: JSON pretty-printed with two-space indentation, keys in insertion order,
/// <c>Content-Type: application/json</c> exactly (no charset — clients and the original's tests compare it), and the
/// <c>{"ok": false, …}</c> failure shape of the vmpooler API (spec §2.1).
/// </summary>
public static class ApiResults
{
    public const string JsonContentType = "application/json";

    internal static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Any JSON body with a status code.</summary>
    public static IResult Json(int statusCode, JsonNode body) => new JsonResponse(statusCode, body);

    /// <summary><c>{"ok": true}</c> with 200 (or the given status).</summary>
    public static IResult Ok(int statusCode = StatusCodes.Status200OK) => new JsonResponse(statusCode, new JsonObject { ["ok"] = true });

    /// <summary><c>{"ok": false}</c> with the given status — the original's plain failure (404 not found, 503 empty …).</summary>
    public static IResult Fail(int statusCode) => new JsonResponse(statusCode, new JsonObject { ["ok"] = false });

    /// <summary><c>{"ok": false, "error": message}</c>: a rejected input (400) or another failure with a reason.</summary>
    public static IResult Error(int statusCode, string message)
        => new JsonResponse(statusCode, new JsonObject { ["ok"] = false, ["error"] = message });

    /// <summary>
    /// A bare JSON string, e.g. <c>"Invalid date format 'x', must match YYYY-MM-DD."</c>: the <c>/summary</c> errors. The
    /// original sends that text unquoted under a JSON label (quirk Q20); quoting it keeps the same words while the body
    /// parses as the JSON it claims to be.
    /// </summary>
    public static IResult Message(int statusCode, string message) => new JsonResponse(statusCode, JsonValue.Create(message));

    /// <summary>Writes a JSON body straight to a response (for middleware, where no <see cref="IResult"/> runs).</summary>
    public static Task WriteAsync(HttpResponse response, int statusCode, JsonNode body)
        => new JsonResponse(statusCode, body).WriteAsync(response);

    private sealed class JsonResponse(int statusCode, JsonNode body) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext.Response);

        public async Task WriteAsync(HttpResponse response)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(body, WriteOptions);
            response.StatusCode = statusCode;
            response.ContentType = JsonContentType;
            response.ContentLength = bytes.Length;
            await response.Body.WriteAsync(bytes);
        }
    }
}
