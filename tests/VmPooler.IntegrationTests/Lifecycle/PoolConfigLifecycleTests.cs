using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Diagnostics;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Lifecycle;

/// <summary>
/// The manager's reaction to the experimental pool-config routes (spec §2.7, §4.8), API and manager in one process on
/// the dummy provider: a size override grows and shrinks the pool, a reset drains and refills it, a template override
/// drains it once. Every wait polls with a deadline.
/// </summary>
public class PoolConfigLifecycleTests(ITestOutputHelper output)
{
    private const string Yaml = """
        ---
        :providers:
          :dummy:
            createvm_min_time: 0.01
            createvm_max_time: 0.03
            boot_min_time: 0.01
            boot_max_time: 0.03
        :config:
          experimental_features: true
          check_loop_delay_min: 0.1
          check_loop_delay_max: 0.5
          check_loop_delay_decay: 2.0
        :pools:
          - name: 'conf'
            size: 2
          - name: 'bystander'
            size: 1
        """;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static async Task<JsonObject> PoolStatusAsync(VmPoolerServer server, string pool = "conf")
        => (await server.GetAsync("api/v3/status?view=pools")).ShouldBeJson(HttpStatusCode.OK).Object["pools"]![pool]!.AsObject();

    private static Task WaitForReadyAsync(VmPoolerServer server, int ready, string pool = "conf")
        => AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                var status = await PoolStatusAsync(server, pool);
                return status["ready"]!.GetValue<int>() == ready && status["pending"]!.GetValue<int>() == 0;
            },
            $"{pool} has {ready} ready VMs and none pending",
            Patience);

    private static async Task<List<string>> ReadyNamesAsync(VmPoolerServer server, string pool = "conf")
        => [.. (await server.Inventory.GetPoolAsync(pool, CancellationToken.None).DefaultTimeout()).Ready.Select(v => v.Name)];

    [Fact]
    public async Task PoolSize_Override_ManagerGrowsThenShrinksThePool_AndStatusShowsTheNewMax()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml, VmPoolerRole.All, output: output);
        await WaitForReadyAsync(server, 2);

        (await server.PostAsync("api/v3/config/poolsize", """{"conf": 4}""")).ShouldBeJson(HttpStatusCode.Created);
        await WaitForReadyAsync(server, 4);
        (await PoolStatusAsync(server))["max"]!.GetValue<int>().ShouldBe(4, "spec §2.7: pool sizes are re-synced from the overrides");

        (await server.PostAsync("api/v3/config/poolsize", """{"conf": 1}""")).ShouldBeJson(HttpStatusCode.Created);
        await WaitForReadyAsync(server, 1);
        (await PoolStatusAsync(server))["max"]!.GetValue<int>().ShouldBe(1);

        var reset = await server.DeleteAsync("api/v3/config/poolsize/conf");
        reset.ShouldBeJson(HttpStatusCode.Created);
        reset.Object["pool_size_before_reset"]!.GetValue<int>().ShouldBe(1);
        reset.Object["pool_size_before_overrides"]!.GetValue<int>().ShouldBe(2);
        await WaitForReadyAsync(server, 2);
        (await PoolStatusAsync(server, "bystander"))["ready"]!.GetValue<int>().ShouldBe(1, "other pools are not touched");
    }

    [Fact]
    public async Task PoolReset_ManagerDrainsAndRefillsWithNewVms()
    {
        await using var server = await VmPoolerServer.StartAsync(Yaml, VmPoolerRole.All, output: output);
        await WaitForReadyAsync(server, 2);
        await WaitForReadyAsync(server, 1, "bystander");
        var before = await ReadyNamesAsync(server);
        var bystander = await ReadyNamesAsync(server, "bystander");

        (await server.PostAsync("api/v3/poolreset", """{"conf": true}""")).ShouldBeJson(HttpStatusCode.Created);

        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                var now = await ReadyNamesAsync(server);
                return now.Count == 2 && !now.Intersect(before).Any();
            },
            "conf is refilled with VMs that were not in it before the reset",
            Patience);
        foreach (var vm in before)
        {
            await AsyncTestHelpers.WaitUntilAsync(
                async () => (await server.GetAsync("api/v3/vm/" + vm)).Object[vm]?["state"]?.GetValue<string>() is "destroyed" or null,
                $"drained {vm} is destroyed",
                Patience);
        }

        (await ReadyNamesAsync(server, "bystander")).ShouldBe(bystander, "a reset drains only the named pool");
    }

    [Fact]
    public async Task PoolTemplate_Override_DrainsThePoolOnceThenTemplateIsReady()
    {
        var events = new EventCounter();
        await using var server = await VmPoolerServer.StartAsync(
            Yaml, VmPoolerRole.All, services => services.AddSingleton<ILoggerProvider>(events), output);
        await WaitForReadyAsync(server, 2);
        var before = await ReadyNamesAsync(server);

        (await server.PostAsync("api/v3/config/pooltemplate", """{"conf": "templates/conf-2"}""")).ShouldBeJson(HttpStatusCode.Created);

        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                var now = await ReadyNamesAsync(server);
                return now.Count == 2 && !now.Intersect(before).Any();
            },
            "conf is refilled from the new template",
            Patience);
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.GetAsync("api/v3/config")).Object["pool_configuration"]!.AsArray()
                .Single(p => p!["name"]!.GetValue<string>() == "conf")!["template_ready"]!.GetValue<bool>(),
            "GET /config reports the new template ready",
            Patience);
        var refilled = await ReadyNamesAsync(server);

        // More passes happen (a checkout makes the manager clone a replacement); none drains the pool again.
        var hostname = (await server.PostAsync("api/v3/vm/conf")).ShouldBeJson(HttpStatusCode.OK).Object["conf"]!["hostname"]!.GetValue<string>();
        await WaitForReadyAsync(server, 2);

        (await ReadyNamesAsync(server)).ShouldContain(refilled.Single(n => n != hostname));
        events.Count(EventIds.TemplateChanged).ShouldBe(1, "the template changed once, so the pool is drained once");
    }

    /// <summary>Counts log events by id (added as one more logger provider).</summary>
    private sealed class EventCounter : ILoggerProvider, ILogger
    {
        private readonly ConcurrentDictionary<int, int> _counts = new();

        public int Count(int eventId) => _counts.GetValueOrDefault(eventId);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => _counts.AddOrUpdate(eventId.Id, 1, (_, n) => n + 1);

        public void Dispose()
        {
        }
    }
}
