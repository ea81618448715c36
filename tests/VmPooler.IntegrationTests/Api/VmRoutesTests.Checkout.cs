using System.Net;
using System.Net.Http.Headers;
using System.Text;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Api;

/// <summary>POST /api/v3/vm and POST /api/v3/vm/&lt;pool&gt;[+&lt;pool&gt;…] (spec §2.3).</summary>
public partial class VmRoutesTests
{
    [Fact]
    public async Task PostVm_NumericCountForOnePool_ReturnsOneFqdnAsString()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var response = await server.PostAsync("api/v3/vm", """{"debian": 1}""");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", "debian"]);
        response.Object["ok"]!.GetValue<bool>().ShouldBeTrue();
        KeysOf(response.Object["debian"]!.AsObject()).ShouldBe(["hostname"]);
        Hostname(response, "debian").ShouldBe("d1.example.com");
        (await server.StateOfAsync("d1")).ShouldBe(VmState.Running);
    }

    [Fact]
    public async Task PostVm_StringCountsForSeveralPools_ReturnsArrayForSeveralAndStringForOne()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1", "d2");
        await server.SeedReadyAsync("centos", "c1");

        var response = await server.PostAsync("api/v3/vm", """{"debian": "2", "centos": 1}""");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", "debian", "centos"]);
        response.Object["debian"]!["hostname"]!.AsArray().Select(h => h!.GetValue<string>()).ShouldBe(["d1.example.com", "d2.example.com"]);
        Hostname(response, "centos").ShouldBe("c1.example.com");
        (await server.CountsAsync("debian")).ShouldBe(new PoolCounts(0, 0, 2, 0));
        (await server.CountsAsync("centos")).ShouldBe(new PoolCounts(0, 0, 1, 0));
    }

    [Fact]
    public async Task PostVm_SeveralPools_AnswersInRequestOrder()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        await server.SeedReadyAsync("centos", "c1");

        var response = await server.PostAsync("api/v3/vm", """{"centos": 1, "debian": 1}""");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", "centos", "debian"]);
    }

    [Fact]
    public async Task PostVm_PoolWithoutDomain_ReturnsShortHostname()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("ubuntu", "u1");

        var response = await server.PostAsync("api/v3/vm", """{"ubuntu": 1}""");

        response.ShouldBeJson(HttpStatusCode.OK);
        Hostname(response, "ubuntu").ShouldBe("u1");
    }

    [Fact]
    public async Task PostVm_Alias_AnswersUnderTheAliasWithAVmOfItsPool()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("centos", "c1");
        await server.SeedReadyAsync("debian", "d1");

        var response = await server.PostAsync("api/v3/vm", """{"el": 1, "linux": 1}""");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", "el", "linux"]);
        Hostname(response, "el").ShouldBe("c1.example.com");
        Hostname(response, "linux").ShouldBe("d1.example.com");
    }

    [Fact]
    public async Task PostVm_SeveralReady_HandsOutTheOldestFirst()
    {
        await using var server = await StartAsync();
        // Readied in this order; neither alphabetical nor reverse alphabetical.
        await server.SeedReadyAsync("debian", "mm2", "zz1", "aa3");

        var first = await server.PostAsync("api/v3/vm", """{"debian": 1}""");
        var second = await server.PostAsync("api/v3/vm", """{"debian": 1}""");
        var third = await server.PostAsync("api/v3/vm", """{"debian": 1}""");

        Hostname(first, "debian").ShouldBe("mm2.example.com");
        Hostname(second, "debian").ShouldBe("zz1.example.com");
        Hostname(third, "debian").ShouldBe("aa3.example.com");
    }

    [Fact]
    public async Task PostVm_OneRequestedPoolEmpty_Returns503AndTakesNothing()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1", "d2");

        var response = await server.PostAsync("api/v3/vm", """{"debian": 1, "centos": 1}""");

        response.ShouldBeOkFalse(HttpStatusCode.ServiceUnavailable);
        (await server.CountsAsync("debian")).ShouldBe(new PoolCounts(0, 2, 0, 0));
        (await server.StateOfAsync("d1")).ShouldBe(VmState.Ready);
        (await server.Inventory.GetVmAsync("d1", CancellationToken.None)).ShouldNotBeNull().Get(VmFields.Checkout).ShouldBeNull();
        (await server.GetAsync("api/v3/totalrunning")).Object["running"]!.GetValue<int>().ShouldBe(0);

        // The VM that was put back is still the oldest.
        Hostname(await server.PostAsync("api/v3/vm", """{"debian": 1}"""), "debian").ShouldBe("d1.example.com");
    }

    [Fact]
    public async Task PostVm_MoreThanReady_Returns503AndTakesNothing()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1", "d2");

        var response = await server.PostAsync("api/v3/vm", """{"debian": 3}""");

        response.ShouldBeOkFalse(HttpStatusCode.ServiceUnavailable);
        (await server.CountsAsync("debian")).ShouldBe(new PoolCounts(0, 2, 0, 0));
    }

    [Fact]
    public async Task PostVm_UnknownPool_Returns404AndTakesNothing()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        (await server.PostAsync("api/v3/vm", """{"nosuchpool": 1}""")).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.PostAsync("api/v3/vm", """{"debian": 1, "nosuchpool": 1}""")).ShouldBeOkFalse(HttpStatusCode.NotFound);

        (await server.CountsAsync("debian")).ShouldBe(new PoolCounts(0, 1, 0, 0));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("")]
    [InlineData("  \n")]
    public async Task PostVm_EmptyObjectOrBody_Returns404(string body)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        (await server.PostAsync("api/v3/vm", body)).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PostVm_NoBodyAtAll_Returns404()
    {
        await using var server = await StartAsync();

        (await server.PostAsync("api/v3/vm")).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"debian\": 1")]
    [InlineData("{\"debian\": 1,}")]
    [InlineData("debian=1")]
    public async Task PostVm_InvalidJson_Returns400InvalidJson(string body)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var error = (await server.PostAsync("api/v3/vm", body)).ShouldBeError(HttpStatusCode.BadRequest);

        error.ShouldStartWith("Invalid JSON");
        (await server.CountsAsync("debian")).Ready.ShouldBe(1);
    }

    [Theory]
    [InlineData("[{\"debian\": 1}]")]
    [InlineData("\"debian\"")]
    [InlineData("1")]
    [InlineData("null")]
    public async Task PostVm_JsonThatIsNotAnObject_Returns400(string body)
    {
        await using var server = await StartAsync();

        (await server.PostAsync("api/v3/vm", body)).ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Request body must be a JSON object");
    }

    [Fact]
    public async Task PostVm_NestingDepth6_Returns400TooComplex()
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/vm", """{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}""");

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Request body too complex");
    }

    [Fact]
    public async Task PostVm_NestingDepth5_IsNotTooComplex()
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/vm", """{"a": {"b": {"c": {"d": {"e": 1}}}}}""");

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldNotBe("Request body too complex");
    }

    [Fact]
    public async Task PostVm_BodyOver10240Bytes_Returns400TooLarge()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var response = await server.PostAsync("api/v3/vm", PaddedBody(10_241));

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Request body too large");
        (await server.CountsAsync("debian")).Ready.ShouldBe(1);
    }

    [Fact]
    public async Task PostVm_BodyOf10240Bytes_IsNotTooLarge()
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/vm", PaddedBody(10_240));

        // Read and parsed: it fails later, on the padding's "count".
        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("VM count must be a valid integer");
    }

    [Fact]
    public async Task PostVm_ChunkedBodyOver10240Bytes_Returns400TooLarge()
    {
        await using var server = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v3/vm")
        {
            Content = new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(PaddedBody(50_000)))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;

        using var raw = await server.Client.SendAsync(request).DefaultTimeout();
        var response = await ApiResponse.ReadAsync(raw);

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Request body too large");
    }

    [Theory]
    [InlineData("""{"bad pool!": 1}""", "Invalid pool name format")]
    [InlineData("""{"debian.x": 1}""", "Invalid pool name format")]
    [InlineData("""{"": 1}""", "Pool name is required")]
    public async Task PostVm_InvalidPoolName_Returns400(string body, string expected)
    {
        await using var server = await StartAsync();

        (await server.PostAsync("api/v3/vm", body)).ShouldBeError(HttpStatusCode.BadRequest).ShouldBe(expected);
    }

    [Fact]
    public async Task PostVm_PoolNameOver100Characters_Returns400TooLong()
    {
        await using var server = await StartAsync();

        var response = await server.PostAsync("api/v3/vm", $$"""{"{{new string('p', 101)}}": 1}""");

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Pool name too long");
    }

    [Theory]
    [InlineData("0", "VM count must be at least 1")]
    [InlineData("\"0\"", "VM count must be at least 1")]
    [InlineData("101", "VM count must be at most 100")]
    [InlineData("\"101\"", "VM count must be at most 100")]
    [InlineData("\"abc\"", "VM count must be a valid integer")]
    [InlineData("-1", "VM count must be a valid integer")]
    [InlineData("1.5", "VM count must be a valid integer")]
    [InlineData("\"\"", "VM count is required")]
    [InlineData("null", "VM count is required")]
    public async Task PostVm_InvalidCount_Returns400WithSpecMessage(string count, string expected)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var response = await server.PostAsync("api/v3/vm", $$"""{"debian": {{count}}}""");

        response.ShouldBeError(HttpStatusCode.BadRequest).ShouldBe(expected);
        (await server.CountsAsync("debian")).Ready.ShouldBe(1);
    }

    [Fact]
    public async Task PostVm_CountOf100_IsAcceptedAndAnswers503WhenTooFewReady()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        (await server.PostAsync("api/v3/vm", """{"debian": 100}""")).ShouldBeOkFalse(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task PostVm_JsonLabelledAsForm_IsReadAsJson()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        // vmfloaty sends its JSON body as application/x-www-form-urlencoded.
        var response = await server.PostAsync("api/v3/vm", """{"debian":"1"}""", "application/x-www-form-urlencoded");

        response.ShouldBeJson(HttpStatusCode.OK);
        Hostname(response, "debian").ShouldBe("d1.example.com");
    }

    [Fact]
    public async Task PostVm_JsonLabelledAsText_IsReadAsJson()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var response = await server.PostAsync("api/v3/vm", """{"debian": 1}""", "text/plain");

        response.ShouldBeJson(HttpStatusCode.OK);
        Hostname(response, "debian").ShouldBe("d1.example.com");
    }

    [Fact]
    public async Task PostVm_AliasOfSeveralPools_FallsBackToAPoolThatHasVms()
    {
        const string Yaml = """
            :pools:
              - name: 'east'
                alias: 'anywhere'
                size: 2
              - name: 'west'
                alias: [ 'anywhere' ]
                size: 2
            """;
        await using var server = await StartAsync(Yaml);
        await server.SeedReadyAsync("west", "w1");
        await server.SeedReadyAsync("east", "e1");

        // Whichever pool is drawn first, both requests are served: one VM from each.
        var first = await server.PostAsync("api/v3/vm", """{"anywhere": 1}""");
        var second = await server.PostAsync("api/v3/vm/anywhere");
        var third = await server.PostAsync("api/v3/vm/anywhere");

        first.ShouldBeJson(HttpStatusCode.OK);
        second.ShouldBeJson(HttpStatusCode.OK);
        new[] { Hostname(first, "anywhere"), Hostname(second, "anywhere") }.Order().ShouldBe(["e1", "w1"]);
        third.ShouldBeOkFalse(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task PostVm_AliasOfSeveralPoolsCount2_TakesFromBothPools()
    {
        const string Yaml = """
            :pools:
              - name: 'east'
                alias: 'anywhere'
                size: 1
              - name: 'west'
                alias: 'anywhere'
                size: 1
            """;
        await using var server = await StartAsync(Yaml);
        await server.SeedReadyAsync("east", "e1");
        await server.SeedReadyAsync("west", "w1");

        var response = await server.PostAsync("api/v3/vm", """{"anywhere": 2}""");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object["anywhere"]!["hostname"]!.AsArray().Select(h => h!.GetValue<string>()).Order().ShouldBe(["e1", "w1"]);
    }

    [Fact]
    public async Task PostVm_ManyConcurrentCheckouts_NeverHandOutAVmTwice()
    {
        await using var server = await StartAsync();
        var names = Enumerable.Range(1, 40).Select(i => $"vm{i:00}").ToArray();
        await server.SeedReadyAsync("debian", names);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => server.PostAsync("api/v3/vm/debian"))).DefaultTimeout();

        var served = responses.Where(r => r.Status == HttpStatusCode.OK).Select(r => Hostname(r, "debian")).ToList();
        served.Count.ShouldBe(40);
        served.Distinct().Count().ShouldBe(40);
        responses.Count(r => r.Status == HttpStatusCode.ServiceUnavailable).ShouldBe(10);
        (await server.CountsAsync("debian")).ShouldBe(new PoolCounts(0, 0, 40, 0));
    }

    [Fact]
    public async Task PostVm_ConcurrentMultiPoolCheckouts_AreAllOrNothing()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", [.. Enumerable.Range(1, 10).Select(i => $"d{i:00}")]);
        await server.SeedReadyAsync("centos", [.. Enumerable.Range(1, 6).Select(i => $"c{i:00}")]);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => server.PostAsync("api/v3/vm", """{"debian": 1, "centos": 1}"""))).DefaultTimeout();

        responses.Count(r => r.Status == HttpStatusCode.OK).ShouldBe(6);
        responses.Count(r => r.Status == HttpStatusCode.ServiceUnavailable).ShouldBe(4);
        (await server.CountsAsync("debian")).ShouldBe(new PoolCounts(0, 4, 6, 0));
        (await server.CountsAsync("centos")).ShouldBe(new PoolCounts(0, 0, 6, 0));
    }

    // ---- POST /api/v3/vm/<pool>[+<pool>…] -----------------------------------------------------------------------

    [Fact]
    public async Task PostVmPath_RepeatedPools_CountsRepeats()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1", "d2");
        await server.SeedReadyAsync("centos", "c1");

        var response = await server.PostAsync("api/v3/vm/debian+centos+debian");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", "debian", "centos"]);
        response.Object["debian"]!["hostname"]!.AsArray().Select(h => h!.GetValue<string>()).ShouldBe(["d1.example.com", "d2.example.com"]);
        Hostname(response, "centos").ShouldBe("c1.example.com");
    }

    [Fact]
    public async Task PostVmPath_NoBody_ChecksOutOne()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("ubuntu", "u1");

        var response = await server.PostAsync("api/v3/vm/ubuntu");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", "ubuntu"]);
        Hostname(response, "ubuntu").ShouldBe("u1");
        (await server.StateOfAsync("u1")).ShouldBe(VmState.Running);
    }

    [Fact]
    public async Task PostVmPath_Alias_AnswersUnderTheAlias()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("centos", "c1");

        var response = await server.PostAsync("api/v3/vm/el");

        response.ShouldBeJson(HttpStatusCode.OK);
        response.Keys.ShouldBe(["ok", "el"]);
        Hostname(response, "el").ShouldBe("c1.example.com");
    }

    [Fact]
    public async Task PostVmPath_UnknownPool_Returns404AndTakesNothing()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        (await server.PostAsync("api/v3/vm/debian+nosuchpool")).ShouldBeOkFalse(HttpStatusCode.NotFound);

        (await server.CountsAsync("debian")).Ready.ShouldBe(1);
    }

    [Fact]
    public async Task PostVmPath_NotEnoughReady_Returns503AndTakesNothing()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        await server.SeedReadyAsync("centos", "c1");

        (await server.PostAsync("api/v3/vm/debian+centos+centos")).ShouldBeOkFalse(HttpStatusCode.ServiceUnavailable);

        (await server.CountsAsync("debian")).ShouldBe(new PoolCounts(0, 1, 0, 0));
        (await server.CountsAsync("centos")).ShouldBe(new PoolCounts(0, 1, 0, 0));
    }

    [Fact]
    public async Task PostVmPath_WithTrailingSlash_ChecksOut()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var response = await server.PostAsync("api/v3/vm/debian/");

        response.ShouldBeJson(HttpStatusCode.OK);
        Hostname(response, "debian").ShouldBe("d1.example.com");
    }

    /// <summary>A JSON object of exactly <paramref name="bytes"/> bytes: <c>{"pad": "xxx…"}</c>.</summary>
    private static string PaddedBody(int bytes)
    {
        const string Head = "{\"pad\": \"";
        const string Tail = "\"}";
        var body = Head + new string('x', bytes - Head.Length - Tail.Length) + Tail;
        Encoding.UTF8.GetByteCount(body).ShouldBe(bytes);
        return body;
    }

    /// <summary>A stream whose length is unknown, so the client has to send it chunked.</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
