using System.Text;
using Microsoft.AspNetCore.Http;
using VmPooler.Api.Http;

namespace VmPooler.Tests.Api;

public class RequestBodyTests
{
    private static RequestBody.Result Parse(string json) => RequestBody.Parse(Encoding.UTF8.GetBytes(json));

    private static Task<RequestBody.Result> ReadAsync(byte[] body, long? contentLength = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = contentLength;
        return RequestBody.ReadObjectAsync(context.Request, CancellationToken.None);
    }

    private static string Nested(int depth)
    {
        var json = "1";
        for (var i = 0; i < depth; i++)
        {
            json = $"{{\"k{i}\":{json}}}";
        }

        return json;
    }

    [Fact]
    public void Parse_Object_Parsed()
    {
        var result = Parse("""{"pool": 2, "name": "x"}""");

        result.Error.ShouldBeNull();
        result.Body.ShouldNotBeNull();
        result.Body["pool"]!.GetValue<int>().ShouldBe(2);
        result.Body["name"]!.GetValue<string>().ShouldBe("x");
    }

    [Fact]
    public void Parse_DepthFive_Accepted()
    {
        var result = Parse(Nested(5));

        result.Error.ShouldBeNull();
        result.Body.ShouldNotBeNull();
    }

    [Fact]
    public void Parse_DepthSix_TooComplex()
    {
        var result = Parse(Nested(6));

        result.Error.ShouldBe("Request body too complex");
        result.Body.ShouldBeNull();
    }

    [Fact]
    public void Parse_ArraysCountTowardsDepth_SixRejectedFiveAccepted()
    {
        Parse("""{"a":[[[[1]]]]}""").Error.ShouldBeNull();
        Parse("""{"a":[[[[[1]]]]]}""").Error.ShouldBe("Request body too complex");
    }

    [Fact]
    public void Parse_VeryDeep_TooComplexNotInvalid()
    {
        var json = new string('[', 2000) + new string(']', 2000);

        Parse("{\"a\":" + json + "}").Error.ShouldBe("Request body too complex");
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[1, 2]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("null")]
    public void Parse_NotAnObject_Rejected(string json)
    {
        var result = Parse(json);

        result.Error.ShouldBe("Request body must be a JSON object");
        result.Body.ShouldBeNull();
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"a\":}")]
    [InlineData("{'a': 1}")]
    [InlineData("{\"a\": 1,}")]
    [InlineData("{} {}")]
    [InlineData("pool=debian")]
    [InlineData("{\"a\": 1} // comment")]
    public void Parse_InvalidJson_InvalidJsonMessage(string json)
    {
        var result = Parse(json);

        result.Body.ShouldBeNull();
        result.Error.ShouldNotBeNull().ShouldStartWith("Invalid JSON: ");
        result.Error.Length.ShouldBeGreaterThan("Invalid JSON: ".Length);
        result.Error.ShouldNotContain("\n");
    }

    [Fact]
    public void Parse_InvalidUtf8_InvalidJson()
    {
        var result = RequestBody.Parse([(byte)'{', (byte)'"', 0xff, 0xfe, (byte)'"', (byte)':', (byte)'1', (byte)'}']);

        result.Error.ShouldNotBeNull().ShouldStartWith("Invalid JSON: ");
    }

    [Fact]
    public void Parse_DuplicateKeys_Rejected()
    {
        var result = Parse("""{"a": 1, "a": 2}""");

        result.Body.ShouldBeNull();
        result.Error.ShouldNotBeNull().ShouldStartWith("Invalid JSON: ");
    }

    [Fact]
    public void Parse_NestedDuplicateKeys_Rejected()
    {
        // Accepted, this body would throw later, when a handler reads "tags" (a 500 for a client mistake).
        var result = Parse("""{"tags": {"a": "1", "a": "2"}}""");

        (result.Body is null).ShouldBeTrue("a body with duplicate keys inside was accepted");
        result.Error.ShouldNotBeNull().ShouldStartWith("Invalid JSON: ");
    }

    [Fact]
    public void Parse_DuplicateKeysInArrayElement_Rejected()
    {
        var result = Parse("""{"list": [{"a": 1, "a": 2}]}""");

        (result.Body is null).ShouldBeTrue("a body with duplicate keys inside was accepted");
        result.Error.ShouldNotBeNull().ShouldStartWith("Invalid JSON: ");
    }

    [Fact]
    public void Parse_SameKeyInDifferentObjects_Accepted()
    {
        var result = Parse("""{"a": {"x": 1}, "b": {"x": 2}, "x": 3}""");

        result.Error.ShouldBeNull();
        result.Body!["b"]!["x"]!.GetValue<int>().ShouldBe(2);
    }

    [Fact]
    public async Task ReadObjectAsync_Empty_EmptyObject()
    {
        var result = await ReadAsync([]);

        result.Error.ShouldBeNull();
        result.Body.ShouldNotBeNull().Count.ShouldBe(0);
    }

    [Fact]
    public async Task ReadObjectAsync_Whitespace_EmptyObject()
    {
        var result = await ReadAsync(Encoding.UTF8.GetBytes(" \r\n\t "));

        result.Error.ShouldBeNull();
        result.Body.ShouldNotBeNull().Count.ShouldBe(0);
    }

    [Fact]
    public async Task ReadObjectAsync_Object_Parsed()
    {
        var result = await ReadAsync(Encoding.UTF8.GetBytes("""{"debian": "2"}"""));

        result.Error.ShouldBeNull();
        result.Body!["debian"]!.GetValue<string>().ShouldBe("2");
    }

    [Fact]
    public async Task ReadObjectAsync_ContentLengthTooLarge_TooLargeWithoutReading()
    {
        var result = await ReadAsync(Encoding.UTF8.GetBytes("{}"), contentLength: RequestBody.MaxBytes + 1);

        result.Error.ShouldBe("Request body too large");
    }

    [Fact]
    public async Task ReadObjectAsync_BodyOverLimitWithoutContentLength_TooLarge()
    {
        var body = Encoding.UTF8.GetBytes("{\"a\":\"" + new string('x', RequestBody.MaxBytes) + "\"}");

        var result = await ReadAsync(body);

        result.Error.ShouldBe("Request body too large");
    }

    [Fact]
    public async Task ReadObjectAsync_ExactlyAtLimit_Accepted()
    {
        var padding = new string('x', RequestBody.MaxBytes - "{\"a\":\"\"}".Length);
        var body = Encoding.UTF8.GetBytes("{\"a\":\"" + padding + "\"}");
        body.Length.ShouldBe(RequestBody.MaxBytes);

        var result = await ReadAsync(body, body.Length);

        result.Error.ShouldBeNull();
        result.Body!["a"]!.GetValue<string>().Length.ShouldBe(padding.Length);
    }

    [Fact]
    public async Task ReadObjectAsync_InvalidJson_InvalidJsonMessage()
    {
        var result = await ReadAsync(Encoding.UTF8.GetBytes("not json"));

        result.Error.ShouldNotBeNull().ShouldStartWith("Invalid JSON: ");
    }
}
