using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Metrics;

/// <summary>statsd, Graphite and OTLP exporters, each received by a real listener on loopback.</summary>
public sealed class PushExporterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Statsd_UdpListener_ReceivesGaugesDurationsAndCheckouts()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        var lines = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var receiving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var received = await udp.ReceiveAsync(stop.Token);
                foreach (var line in Encoding.UTF8.GetString(received.Buffer).Split('\n'))
                {
                    lines.Enqueue(line);
                }
            }
        });

        await using (var server = await VmPoolerServer.StartAsync(
            MetricsEndpointTests.Yaml($":statsd:\n  server: 127.0.0.1\n  port: {MetricsEndpointTests.Port(port)}\n  prefix: st\n  interval: 0.2\n"), VmPoolerRole.All, output: output))
        {
            await AsyncTestHelpers.WaitUntilAsync(() => lines.Contains("st.ready.metpool:2|g"), "the ready gauge of the filled pool");
            (await server.PostAsync("/api/v3/vm/metpool")).Status.ShouldBe(HttpStatusCode.OK);
            await AsyncTestHelpers.WaitUntilAsync(() => lines.Contains("st.checkout.success.metpool:1|c"), "the checkout counter");
            await AsyncTestHelpers.WaitUntilAsync(() => lines.Contains("st.running.metpool:1|g"), "the running gauge");
        }

        await stop.CancelAsync();
        await receiving.ContinueWith(_ => { }, TaskScheduler.Default).DefaultTimeout();
        lines.ShouldContain(l => Regex.IsMatch(l, @"^st\.clone\.metpool:\d+(\.\d+)?\|ms$"));
        lines.ShouldContain(l => Regex.IsMatch(l, @"^st\.time_to_ready_state\.metpool:\d+(\.\d+)?\|ms$"));
        lines.ShouldAllBe(l => Regex.IsMatch(l, @"^st\.[A-Za-z0-9_.-]+:-?\d+(\.\d+)?(E[-+]?\d+)?\|(c|g|ms)$"), "every line is a statsd line");
    }

    [Fact]
    public async Task Graphite_TcpListener_ReceivesLinesAndTheExporterReconnects()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            await using var server = await VmPoolerServer.StartAsync(
                MetricsEndpointTests.Yaml($":graphite:\n  server: 127.0.0.1\n  port: {MetricsEndpointTests.Port(port)}\n  interval: 0.2\n"), VmPoolerRole.All, output: output);

            // First connection: read until the filled pool's gauge arrives, then drop the connection.
            var first = new List<string>();
            using (var connection = await listener.AcceptTcpClientAsync().DefaultTimeout())
            {
                await ReadLinesUntilAsync(connection, first, l => l.StartsWith("vmpooler.ready.metpool 2 ", StringComparison.Ordinal));
            }

            first.ShouldContain(l => Regex.IsMatch(l, @"^vmpooler\.clone\.metpool \d+(\.\d+)? \d{10}$"));
            first.ShouldAllBe(l => Regex.IsMatch(l, @"^vmpooler\.[A-Za-z0-9_.-]+ -?\d+(\.\d+)?(E[-+]?\d+)? \d{10}$"), "every line is a Graphite plaintext line");

            // The exporter notices (a write fails), backs off and reconnects. Lines written into the dropped connection
            // before the failure showed are lost: that is plaintext TCP, as with the original.
            using var second = await listener.AcceptTcpClientAsync().DefaultTimeout();
            (await server.PostAsync("/api/v3/vm/metpool")).Status.ShouldBe(HttpStatusCode.OK);
            var more = new List<string>();
            await ReadLinesUntilAsync(second, more, l => l.StartsWith("vmpooler.checkout.success.metpool 1 ", StringComparison.Ordinal));
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task ReadLinesUntilAsync(TcpClient connection, List<string> lines, Func<string, bool> done)
    {
        using var reader = new StreamReader(connection.GetStream(), Encoding.UTF8, leaveOpen: true);
        while (true)
        {
            var line = await reader.ReadLineAsync().DefaultTimeout();
            line.ShouldNotBeNull("the exporter closed the connection");
            lines.Add(line);
            if (done(line))
            {
                return;
            }
        }
    }

    [Fact]
    public async Task Otlp_LoopbackReceiver_GetsProtobufMetricsAndTraces()
    {
        var received = new ConcurrentQueue<(string Path, string? ContentType, long Length)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            received.Enqueue((context.Request.Path.Value!, context.Request.ContentType, body.Length));
            return Results.Ok();
        });
        await receiver.StartAsync().DefaultTimeout();
        var endpoint = receiver.ListeningAddresses().ShouldHaveSingleItem();

        var yaml = MetricsEndpointTests.Yaml($":tracing:\n  enabled: true\n  otlp_endpoint: '{endpoint}'\n  otlp_metrics: true\n  otlp_metrics_interval: 0.5\n");
        await using (var server = await VmPoolerServer.StartAsync(yaml, VmPoolerRole.All, output: output))
        {
            await AsyncTestHelpers.WaitUntilAsync(() => received.Any(r => r.Path == "/v1/metrics"), "an OTLP metrics export");
            await AsyncTestHelpers.WaitUntilAsync(async () => (await server.PostAsync("/api/v3/vm/metpool")).Status == HttpStatusCode.OK, "a checkout (a span)");
        }

        // Stopping the application flushes the batched spans.
        await AsyncTestHelpers.WaitUntilAsync(() => received.Any(r => r.Path == "/v1/traces"), "an OTLP traces export");
        received.ShouldAllBe(r => r.ContentType == "application/x-protobuf" && r.Length > 0);
    }
}
