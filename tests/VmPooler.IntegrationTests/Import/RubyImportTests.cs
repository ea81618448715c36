using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Import;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Import;

/// <summary>
/// <c>vmpooler import-ruby</c> end to end: a Ruby vmpooler's Redis (<see cref="RubyScenario"/>, on a redis-server of its
/// own) imported into our Redis inventory, then checked through our HTTP API on the same configuration.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RubyImportTests(RedisFixtures redis, ITestOutputHelper output) : IAsyncLifetime
{
    private RubyVmpoolerRedis? _ruby;
    private readonly string _prefix = RedisFixtures.NewPrefix();

    private RubyVmpoolerRedis Ruby => _ruby!;

    public async Task InitializeAsync()
    {
        _ruby = await RubyVmpoolerRedis.StartAsync().DefaultTimeout();
        await RubyScenario.WriteAsync(_ruby).DefaultTimeout();
    }

    public async Task DisposeAsync()
    {
        if (_ruby is not null)
        {
            await _ruby.DisposeAsync();
        }
    }

    /// <summary>Two pools with a domain on one, dummy auth, our inventory in Redis at <paramref name="endpoint"/> under this test's prefix.</summary>
    private string Yaml(string? endpoint = null, string extra = "") => $"""
        ---
        :redis:
          server: '{endpoint ?? redis.Server.Endpoint}'
          key_prefix: '{_prefix}'
        :auth:
          provider: 'dummy'
        :dns_configs:
          :example:
            dns_class: dynamic-dns
            domain: 'example.com'
        :config:
          vm_lifetime: 24
        {extra}
        :pools:
          - name: 'debian'
            size: 2
            dns_plugin: example
          - name: 'centos'
            size: 1
        """;

    private async Task<(int Exit, string Output, string Error)> ImportAsync(string yaml, bool dryRun = false, bool merge = false)
    {
        var options = VmPoolerServer.LoadOptions(yaml, AuthTestSupport.DebugEnvironment);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var run = RubyImportCommand.RunAsync(options, Ruby.Url, dryRun, merge, stdout, stderr, CancellationToken.None);
        var exit = await run.DefaultTimeout();
        output.WriteLine($"exit {exit}\n{stdout}\n{stderr}");
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private Task<IReadOnlyDictionary<string, string>> DumpOursAsync()
        => Task.Run(async () =>
        {
            using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
            return await RubyVmpoolerRedis.DumpAsync(connection, _prefix + "*");
        }).DefaultTimeout();

    /// <summary>"kind: N imported, M already present, K skipped" of the summary, as numbers.</summary>
    private static (int Imported, int Present, int Skipped) Line(string text, string kind)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text, $@"^  {System.Text.RegularExpressions.Regex.Escape(kind)}:\s+(\d+) (?:imported|to import),\s+(\d+) already present,\s+(\d+) skipped", System.Text.RegularExpressions.RegexOptions.Multiline);
        match.Success.ShouldBeTrue($"a summary line for {kind}");
        return (int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    private Task<VmPoolerServer> StartApiAsync(string yaml)
        => VmPoolerServer.StartAsync(
            yaml,
            VmPoolerRole.Api,
            services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(RubyScenario.Now)),
            output,
            AuthTestSupport.DebugEnvironment);

    [Fact]
    public async Task Import_EveryKind_ReportsCountsAndEverySkipWithItsReason()
    {
        var (exit, text, _) = await ImportAsync(Yaml());

        exit.ShouldBe(0);
        Line(text, "token").ShouldBe((2, 0, 3));
        Line(text, "vm").ShouldBe((RubyScenario.ImportedVms.Count, 0, 9));
        Line(text, "pool override").ShouldBe((3, 0, 2));
        Line(text, "pool reset").ShouldBe((1, 0, 0));
        Line(text, "on-demand request").ShouldBe((1, 0, 3));
        Line(text, "clone duration").ShouldBe((4, 0, 2));
        Line(text, "boot duration").ShouldBe((2, 0, 0));
        Line(text, "tag record").ShouldBe((2, 0, 1));
        Line(text, "last boot").ShouldBe((2, 0, 1));
        var skipLines = text.Split('\n').Where(l => l.StartsWith("  - ", StringComparison.Ordinal)).ToList();
        foreach (var (record, reason) in RubyScenario.Skipped)
        {
            skipLines.ShouldContain(l => l.StartsWith($"  - {record}: ", StringComparison.Ordinal) && l.Contains(reason, StringComparison.Ordinal), $"{record} skipped because of '{reason}'");
        }

        skipLines.Count.ShouldBe(RubyScenario.Skipped.Count, "nothing else is skipped");
        text.ShouldNotContain(RubyScenario.AliceToken, Case.Sensitive, "tokens are never printed");
        text.ShouldContain("metadata of VMs in no state set");
        text.ShouldContain("finished on-demand requests (status ready");
    }

    [Fact]
    public async Task Import_TokensAndVms_ServedByOurApiAsTheyWere()
    {
        (await ImportAsync(Yaml())).Exit.ShouldBe(0);
        await using var server = await StartApiAsync(Yaml());

        var token = (await server.GetAsync($"api/v3/token/{RubyScenario.AliceToken}")).ShouldBeJson(HttpStatusCode.OK).Object[RubyScenario.AliceToken]!;
        token["user"]!.GetValue<string>().ShouldBe("alice");
        token["created"]!.GetValue<string>().ShouldBe("2026-11-26 12:00:00 +0000");
        token["last"]!.GetValue<string>().ShouldBe("2026-12-05 12:00:00 +0000");
        token["vms"]!["running"]!.AsArray().Select(v => v!.GetValue<string>()).Order().ShouldBe(["vm-od1", "vm-run1"]);
        var bob = (await server.GetAsync($"api/v3/token/{RubyScenario.BobToken}")).ShouldBeJson(HttpStatusCode.OK).Object[RubyScenario.BobToken]!.AsObject();
        bob.Select(p => p.Key).ShouldBe(["user", "created"], "never used, and its VM is returned");

        var run1 = (await server.GetAsync("api/v3/vm/vm-run1")).ShouldBeJson(HttpStatusCode.OK).Object["vm-run1"]!;
        run1["state"]!.GetValue<string>().ShouldBe("running");
        run1["template"]!.GetValue<string>().ShouldBe("debian");
        run1["lifetime"]!.GetValue<int>().ShouldBe(12);
        run1["running"]!.GetValue<double>().ShouldBe(2.0);
        run1["remaining"]!.GetValue<double>().ShouldBe(10.0, "the lifetime left when the Ruby manager stopped");
        run1["start_time"]!.GetValue<string>().ShouldBe("2026-12-06T10:00:00+00:00");
        run1["tags"].Compact().ShouldBe("""{"jenkins":"build-7","project":"import"}""");
        run1["snapshots"].Compact().ShouldBe("""["snap1"]""");
        run1["disk"].Compact().ShouldBe("""["+8gb","+16gb"]""");
        run1["ip"]!.GetValue<string>().ShouldBe("10.0.0.5");
        run1["fqdn"]!.GetValue<string>().ShouldBe("vm-run1.example.com");

        var run2 = (await server.GetAsync("api/v3/vm/vm-run2")).Object["vm-run2"]!;
        run2["state"]!.GetValue<string>().ShouldBe("running");
        run2["remaining"]!.GetValue<double>().ShouldBe(23.5, "checked out 30 minutes ago (the active hash), default lifetime 24 h");
        (await server.GetAsync("api/v3/vm/vm-ready-old")).Object["vm-ready-old"]!["state"]!.GetValue<string>().ShouldBe("ready");
        (await server.GetAsync("api/v3/vm/vm-pend1")).Object["vm-pend1"]!["state"]!.GetValue<string>().ShouldBe("pending");
        (await server.GetAsync("api/v3/vm/vm-gone1")).ShouldBeOkFalse(HttpStatusCode.NotFound);
        (await server.CountsAsync("centos")).ShouldBe(new Core.Inventory.PoolCounts(1, 0, 0, 1, 1));
    }

    [Fact]
    public async Task Import_ImportedTokenChecksOut_OldestImportedReadyVmWithTheOwnerRecorded()
    {
        (await ImportAsync(Yaml())).Exit.ShouldBe(0);
        await using var server = await StartApiAsync(Yaml());

        var checkout = await server.RequestAsync(HttpMethod.Post, "api/v3/vm/debian", token: RubyScenario.AliceToken);

        checkout.ShouldBeJson(HttpStatusCode.OK).Object["debian"]!["hostname"]!.GetValue<string>().ShouldBe("vm-ready-old.example.com");
        var running = (await server.GetAsync($"api/v3/token/{RubyScenario.AliceToken}")).Object[RubyScenario.AliceToken]!["vms"]!["running"]!;
        running.AsArray().Select(v => v!.GetValue<string>()).ShouldContain("vm-ready-old");
        var vm = (await server.Inventory.GetVmAsync("vm-ready-old", CancellationToken.None)).ShouldNotBeNull();
        vm.Get(Core.Inventory.VmFields.TokenUser).ShouldBe("alice");
        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/vm-run1")).Status.ShouldBe(HttpStatusCode.Unauthorized, "vm-run1 was imported with its owner, so returning it takes a token");
    }

    [Fact]
    public async Task Import_OverridesOnDemandAndHistory_InForce()
    {
        (await ImportAsync(Yaml())).Exit.ShouldBe(0);
        await using var server = await StartApiAsync(Yaml());

        var pools = (await server.GetAsync("api/v3/config")).ShouldBeJson(HttpStatusCode.OK).Object["pool_configuration"]!.AsArray();
        pools.Single(p => p!["name"]!.GetValue<string>() == "debian")!["size"]!.GetValue<int>().ShouldBe(4);
        pools.Single(p => p!["name"]!.GetValue<string>() == "centos")!["template"]!.GetValue<string>().ShouldBe("templates/centos-9-new");

        var request = await server.GetAsync("api/v3/ondemandvm/req-1");
        request.ShouldBeJson(HttpStatusCode.Accepted);
        request.Object["debian"].Compact().ShouldBe("""{"ready":"1","pending":"1"}""");

        var summary = (await server.GetAsync("api/v3/summary?from=2026-12-04&to=2026-12-05")).ShouldBeJson(HttpStatusCode.OK).Object;
        var daily = summary["daily"]!.AsArray();
        daily[0]!["clone"]!["count"]!["total"]!.GetValue<int>().ShouldBe(2);
        daily[1]!["clone"]!["count"]!["total"]!.GetValue<int>().ShouldBe(2);
        daily[1]!["boot"]!["count"]!["total"]!.GetValue<int>().ShouldBe(2);
        daily[1]!["boot"]!["duration"]!["pool"]!["centos"]!["total"]!.GetValue<double>().ShouldBe(61.5);
        daily[1]!["tag"]!["jenkins"]!["total"]!.GetValue<int>().ShouldBe(2);
        var lastBoot = (await server.Inventory.GetLastBootAsync(CancellationToken.None))["debian"];
        lastBoot.ShouldBe(new DateTimeOffset(2026, 12, 5, 11, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public async Task Import_EveryImportedAndSkippedRecord_AnsweredWithoutA5xx()
    {
        (await ImportAsync(Yaml())).Exit.ShouldBe(0);
        await using var server = await StartApiAsync(Yaml());
        var names = RubyScenario.ImportedVms.Keys.Concat(["vm-gone1", "vm-badlife", "vm-nocheckout", "vm-nohash", "vm-twice", "vm-badtime", "vm_str", "vm-destroyed"]);
        var tokens = new[] { RubyScenario.AliceToken, RubyScenario.BobToken, RubyScenario.NoUserToken, RubyScenario.BadCreatedToken, RubyScenario.ShortToken };
        var answers = new List<(string Request, HttpStatusCode Status)>();
        foreach (var vm in names)
        {
            foreach (var token in tokens.Append(null))
            {
                foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
                {
                    (HttpMethod.Get, $"api/v3/vm/{vm}", null),
                    (HttpMethod.Put, $"api/v3/vm/{vm}", """{"lifetime": 6, "tags": {"team": "qa"}}"""),
                    (HttpMethod.Post, $"api/v3/vm/{vm}/snapshot", null),
                    (HttpMethod.Post, $"api/v3/vm/{vm}/disk/8", null),
                })
                {
                    answers.Add(($"{method} {path} token={token}", (await server.RequestAsync(method, path, token: token, body: body)).Status));
                }
            }
        }

        foreach (var token in tokens)
        {
            answers.Add(($"GET token {token}", (await server.GetAsync($"api/v3/token/{token}")).Status));
            // Two imported ready VMs wait in debian: alice and bob each get one, the malformed tokens are refused.
            answers.Add(($"checkout with {token}", (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/debian", token: token)).Status));
        }

        foreach (var id in new[] { "req-1", "req-done", "req-bad", "req-gone", "req-orphan" })
        {
            answers.Add(($"GET ondemand {id}", (await server.GetAsync($"api/v3/ondemandvm/{id}")).Status));
            answers.Add(($"DELETE ondemand {id}", (await server.RequestAsync(HttpMethod.Delete, $"api/v3/ondemandvm/{id}", token: RubyScenario.AliceToken)).Status));
        }

        foreach (var vm in names)
        {
            answers.Add(($"DELETE {vm}", (await server.RequestAsync(HttpMethod.Delete, $"api/v3/vm/{vm}", token: RubyScenario.AliceToken)).Status));
        }

        foreach (var path in new[] { "api/v3/status", "api/v3/summary?from=2026-12-01&to=2026-12-06", "api/v3/config", "api/v3/poolstat?pool=debian,centos", "api/v3/totalrunning", "dashboard/" })
        {
            answers.Add(($"GET {path}", (await server.GetAsync(path)).Status));
        }

        answers.Where(a => (int)a.Status >= 500).ShouldBeEmpty();
        answers.Where(a => a.Request.StartsWith("checkout with", StringComparison.Ordinal)).Count(a => a.Status == HttpStatusCode.OK).ShouldBe(2);
        answers.Where(a => a.Request.StartsWith("GET api/v3/vm/vm-run1", StringComparison.Ordinal)).ShouldAllBe(a => a.Status == HttpStatusCode.OK);
    }

    [Fact]
    public async Task DryRun_ChangesNothingOnEitherSide_AndCountsWhatTheImportThenDoes()
    {
        var rubyBefore = await Ruby.DumpAsync();
        var oursBefore = await DumpOursAsync();

        var (exit, dry, _) = await ImportAsync(Yaml(), dryRun: true);

        exit.ShouldBe(0);
        dry.ShouldContain("dry run, nothing was written");
        (await Ruby.DumpAsync()).ShouldBe(rubyBefore);
        (await DumpOursAsync()).ShouldBe(oursBefore);
        oursBefore.ShouldBeEmpty();
        var real = (await ImportAsync(Yaml())).Output;
        Counts(real).ShouldBe(Counts(dry), "the dry run announces exactly what the import does");
        (await Ruby.DumpAsync()).ShouldBe(rubyBefore, "the Ruby keys are only read");

        static List<string> Counts(string text) => [.. text.Split('\n').Where(l => l.Contains("already present", StringComparison.Ordinal)).Select(l => l.Replace("to import", "imported", StringComparison.Ordinal))];
    }

    [Fact]
    public async Task SecondImport_ChangesNothing_RefusedWithoutMergeAndAllPresentWithIt()
    {
        (await ImportAsync(Yaml())).Exit.ShouldBe(0);
        var after = await DumpOursAsync();
        after.ShouldNotBeEmpty();

        var (refusedExit, refused, _) = await ImportAsync(Yaml());
        refusedExit.ShouldBe(RubyImportCommand.RefusedExitCode);
        refused.ShouldContain("refused: the target inventory already holds data");
        refused.ShouldContain("VMs in pool(s) debian, centos");
        (await DumpOursAsync()).ShouldBe(after);

        var (mergeExit, merged, _) = await ImportAsync(Yaml(), merge: true);
        mergeExit.ShouldBe(0);
        Line(merged, "token").ShouldBe((0, 2, 3));
        Line(merged, "vm").ShouldBe((0, RubyScenario.ImportedVms.Count, 9));
        Line(merged, "clone duration").ShouldBe((0, 4, 2));
        Line(merged, "last boot").ShouldBe((0, 2, 1));
        (await DumpOursAsync()).ShouldBe(after);
    }

    [Fact]
    public async Task Import_SameServerUnderOurPrefix_RubyKeysUntouched()
    {
        var rubyBefore = await Ruby.DumpAsync("vmpooler__*");
        var yaml = Yaml(Ruby.Server.Endpoint);

        (await ImportAsync(yaml)).Exit.ShouldBe(0);

        (await Ruby.DumpAsync("vmpooler__*")).ShouldBe(rubyBefore);
        (await Ruby.DumpAsync(_prefix + "*")).Count.ShouldBeGreaterThan(10);
        await using var server = await StartApiAsync(yaml);
        (await server.GetAsync("api/v3/vm/vm-run1")).Object["vm-run1"]!["state"]!.GetValue<string>().ShouldBe("running");
    }

    [Fact]
    public async Task Executable_DryRunThenImportThenAgain_ExitCodesZeroZeroRefused()
    {
        var configPath = Path.Combine(Path.GetTempPath(), $"vmpooler-import-{_prefix}.yaml");
        await File.WriteAllTextAsync(configPath, Yaml());
        try
        {
            var environment = new Dictionary<string, string> { ["VMPOOLER_DEBUG"] = "1" };
            string[] arguments = ["import-ruby", "--from", Ruby.Url, "--config", configPath];
            await using (var dry = VmPoolerProcess.Start([.. arguments, "--dry-run"], environment, listen: false))
            {
                (await dry.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(0, dry.Describe());
                dry.StandardOutput.ShouldContain("dry run, nothing was written");
                Line(dry.StandardOutput, "vm").ShouldBe((RubyScenario.ImportedVms.Count, 0, 9));
            }

            (await DumpOursAsync()).ShouldBeEmpty();
            await using (var import = VmPoolerProcess.Start(arguments, environment, listen: false))
            {
                (await import.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(0, import.Describe());
            }

            await using var again = VmPoolerProcess.Start(arguments, environment, listen: false);
            (await again.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(RubyImportCommand.RefusedExitCode, again.Describe());
            again.StandardOutput.ShouldContain("--merge");
        }
        finally
        {
            File.Delete(configPath);
        }
    }

    [Fact]
    public async Task Import_WithoutRedisOrWithABadAddress_FailsWithAMessage()
    {
        var options = VmPoolerServer.LoadOptions("---\n:pools:\n  - name: 'debian'\n    size: 1\n");
        using var stderr = new StringWriter();
        (await RubyImportCommand.RunAsync(options, Ruby.Url, false, false, TextWriter.Null, stderr, CancellationToken.None)).ShouldBe(2);
        stderr.ToString().ShouldContain("no :redis: section");

        var withRedis = VmPoolerServer.LoadOptions(Yaml(), AuthTestSupport.DebugEnvironment);
        using var stderr2 = new StringWriter();
        (await RubyImportCommand.RunAsync(withRedis, "http://127.0.0.1:1", false, false, TextWriter.Null, stderr2, CancellationToken.None)).ShouldBe(2);
        stderr2.ToString().ShouldContain("redis://HOST:PORT");

        using var stderr3 = new StringWriter();
        (await RubyImportCommand.RunAsync(withRedis, $"redis://127.0.0.1:{VmPoolerProcess.FreePort()}", false, false, TextWriter.Null, stderr3, CancellationToken.None).DefaultTimeout()).ShouldBe(1);
        stderr3.ToString().ShouldContain("could not read the Ruby vmpooler's Redis");
        (await DumpOursAsync()).ShouldBeEmpty();
    }
}
