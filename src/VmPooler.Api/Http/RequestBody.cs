using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace VmPooler.Api.Http;

/// <summary>
/// Reads a request body as JSON whatever its Content-Type says (vmfloaty labels its JSON as a form), with the limits
/// of spec §2.1: at most 10 240 bytes, nesting depth at most 5, an object at the top. An empty body is <c>{}</c>.
/// </summary>
internal static class RequestBody
{
    public const int MaxBytes = 10_240;
    public const int MaxDepth = 5;

    /// <summary>The parsed object, or the message of a 400 answer.</summary>
    public readonly record struct Result(JsonObject? Body, string? Error, bool IsJsonNull = false, bool IsBlank = false);

    public static async Task<Result> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            return new(null, "Request body too large");
        }

        var buffer = new byte[MaxBytes + 1];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        if (length > MaxBytes)
        {
            return new(null, "Request body too large");
        }

        var bytes = buffer.AsSpan(0, length);
        if (IsBlank(bytes))
        {
            return new(new JsonObject(), null, IsBlank: true);
        }

        return Parse(bytes);
    }

    /// <summary>Parses and checks a body that has already been read.</summary>
    public static Result Parse(ReadOnlySpan<byte> bytes)
    {
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return new(null, "Invalid JSON: the body is not valid UTF-8");
        }

        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = MaxBytes + 1 });
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth + 1 > MaxDepth)
                {
                    return new(null, "Request body too complex");
                }
            }

            // Duplicate keys, at any depth, are rejected rather than silently resolved.
            var node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth + 1, AllowDuplicateProperties = false });
            return node switch
            {
                JsonObject body => new(body, null),
                null => new(null, "Request body must be a JSON object", IsJsonNull: true),
                _ => new(null, "Request body must be a JSON object"),
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or DecoderFallbackException)
        {
            return new(null, "Invalid JSON: " + FirstLine(ex.Message));
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
