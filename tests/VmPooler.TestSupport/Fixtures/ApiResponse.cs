using System.Net;
using System.Text.Json.Nodes;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>One HTTP answer, read completely: status, the raw Content-Type header, the body text and its JSON.</summary>
public sealed record ApiResponse(HttpStatusCode Status, string? ContentType, string Body, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>The body parsed as JSON (keys keep the server's order).</summary>
    public JsonNode Json => JsonNode.Parse(Body) ?? throw new InvalidOperationException("the body is JSON null");

    /// <summary>The body as a JSON object.</summary>
    public JsonObject Object => Json.AsObject();

    /// <summary>The top-level keys of a JSON-object body, in the order the server wrote them.</summary>
    public IReadOnlyList<string> Keys => [.. Object.Select(p => p.Key)];

    public static async Task<ApiResponse> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            headers[name] = string.Join(", ", values);
        }

        return new ApiResponse(response.StatusCode, response.Content.Headers.ContentType?.ToString(), body, headers);
    }

    /// <summary>Asserts the status and that the answer is JSON labelled exactly <c>application/json</c> (spec §2.1).</summary>
    public ApiResponse ShouldBeJson(HttpStatusCode expected)
    {
        Status.ShouldBe(expected, $"body: {Body}");
        ContentType.ShouldBe("application/json", $"every API answer is labelled exactly application/json (body: {Body})");
        return this;
    }

    /// <summary>Asserts <c>{"ok": false}</c> (nothing else) with the given status.</summary>
    public void ShouldBeOkFalse(HttpStatusCode expected)
    {
        ShouldBeJson(expected);
        Keys.ShouldBe(["ok"], $"body: {Body}");
        Object["ok"]!.GetValue<bool>().ShouldBeFalse();
    }

    /// <summary>Asserts <c>{"ok": false, "error": "..."}</c> with the given status and returns the message.</summary>
    public string ShouldBeError(HttpStatusCode expected)
    {
        ShouldBeJson(expected);
        Keys.ShouldBe(["ok", "error"], $"body: {Body}");
        Object["ok"]!.GetValue<bool>().ShouldBeFalse();
        return Object["error"]!.GetValue<string>();
    }

    /// <summary>Asserts <c>{"ok": false, "failure": [...]}</c> with 400 and returns the failures.</summary>
    public IReadOnlyList<string> ShouldBeFailure()
    {
        ShouldBeJson(HttpStatusCode.BadRequest);
        Keys.ShouldBe(["ok", "failure"], $"body: {Body}");
        Object["ok"]!.GetValue<bool>().ShouldBeFalse();
        var failures = Object["failure"]!.AsArray().Select(f => f!.GetValue<string>()).ToList();
        failures.ShouldNotBeEmpty();
        return failures;
    }

    /// <summary>Asserts <c>{"ok": true}</c> (nothing else) with 200.</summary>
    public void ShouldBeOkTrue()
    {
        ShouldBeJson(HttpStatusCode.OK);
        Keys.ShouldBe(["ok"], $"body: {Body}");
        Object["ok"]!.GetValue<bool>().ShouldBeTrue();
    }
}
