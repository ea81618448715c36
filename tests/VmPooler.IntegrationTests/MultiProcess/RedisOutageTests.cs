using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.MultiProcess;

/// <summary>
/// Issue 3, "outage": one manager and two API processes on one Redis (with an append-only file, so the inventory
/// survives), under light load. Redis is killed: while it is away every API answer that needs the inventory is a quick
/// <c>503 {"ok": false, "error": …}</c> (no hanging request, no 500) and nobody gets a VM twice; Redis comes back on the
/// same port: checkouts succeed again through every API process and the manager refills the pools, with no process
/// restarted. The same again with Redis frozen (SIGSTOP/SIGCONT) instead of killed, where every operation runs into
/// <c>redis.operation_timeout</c> and what was sent meanwhile runs late; and a freeze in the middle of a large fill.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class RedisOutageTests(ITestOutputHelper output)
{
    private const int PoolSize = 5;
    private const int Clients = 6;

    private static readonly string[] Pools = ["alpha", "bravo"];

    /// <summary>The longest an API answer may take while Redis is away (issue 3).</summary>
    private static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest a request asked while Redis was away may take when Redis comes back before it is answered: it may
    /// then be served (late) instead of refused, after the backlog of everything queued meanwhile.
    /// </summary>
    private static readonly TimeSpan StraddlingAnswerLimit = TimeSpan.FromSeconds(3);

    /// <summary>How long Redis stays away.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(6);

    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(30);

    /// <summary>A client gives up on a request after this (a hanging request is a failure, measured as such).</summary>
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ThinkTime = TimeSpan.FromMilliseconds(25);

    private static string Yaml => $"""
        :providers:
          :dummy:
            createvm_min_time: 0.02
            createvm_max_time: 0.1
            boot_min_time: 0.02
            boot_max_time: 0.1
        :config:
          task_limit: 10
          check_loop_delay_min: 0.1
          check_loop_delay_max: 1
        :pools:
        {string.Concat(Pools.Select(p => $"  - name: '{p}'\n    size: {PoolSize}\n    provider: dummy\n"))}
        """;

    /// <summary>How Redis goes away.</summary>
    private enum OutageKind
    {
        /// <summary>The server is killed (SIGKILL) and later started again on the same port, from its append-only file.</summary>
        Killed,

        /// <summary>
        /// The server is frozen (SIGSTOP) and later thawed (SIGCONT): connections stay open but nothing answers, so every
        /// operation runs into <c>redis.operation_timeout</c>, and what was sent meanwhile runs when it thaws.
        /// </summary>
        Frozen,
    }

    [Fact]
    public Task RedisKilledUnderLoad_ApisAnswerQuick503sThenEveryProcessRecoversWithoutRestart()
        => RunOutageAsync(OutageKind.Killed);

    [Fact]
    public Task RedisFrozenUnderLoad_ApisAnswer503sWithinTwoSecondsThenEveryProcessRecoversWithoutRestart()
        => RunOutageAsync(OutageKind.Frozen);

    private async Task RunOutageAsync(OutageKind kind)
    {
        await using var deployment = await VmPoolerDeployment.StartAsync(output, Yaml, "--appendonly", "yes");
        var manager = deployment.StartManager("manager");
        VmPoolerProcess[] apis = [await deployment.StartApiAsync("api-0"), await deployment.StartApiAsync("api-1")];
        var pids = new[] { manager }.Concat(apis).Select(p => p.Id).ToList();
        await WaitUntilFullAsync(apis[0], "before the outage");

        using var http = new TimedClients(apis, ClientTimeout);
        var handedOut = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var problems = new ConcurrentQueue<string>();
        var heldAtTheEnd = new ConcurrentQueue<string>();
        using var stopLoad = new CancellationTokenSource();

        async Task ClientAsync(int client)
        {
            var random = new Random(client);
            string? held = null;
            var heldReturnWasAmbiguous = false;
            var turn = client;
            while (!stopLoad.IsCancellationRequested)
            {
                var api = turn++ % apis.Length;
                if (held is null)
                {
                    var pool = Pools[random.Next(Pools.Length)];
                    var answer = await http.SendAsync(api, HttpMethod.Post, $"api/v3/vm/{pool}");
                    if (answer.Status == HttpStatusCode.OK && ParseObject(answer) is { } body && body[pool]?["hostname"]?.GetValue<string>() is { } hostname)
                    {
                        held = hostname;
                        heldReturnWasAmbiguous = false;
                        if (!handedOut.TryAdd(hostname, client))
                        {
                            problems.Enqueue($"{hostname} handed out again to client {client} (first to client {handedOut[hostname]})");
                        }
                    }
                }
                else
                {
                    // Look at it now and then (a read that needs the inventory), then give it back.
                    if (random.Next(3) == 0)
                    {
                        await http.SendAsync(api, HttpMethod.Get, $"api/v3/vm/{held}");
                    }

                    var answer = await http.SendAsync(api, HttpMethod.Delete, $"api/v3/vm/{held}");
                    if (answer.Status == HttpStatusCode.OK
                        || (answer.Status == HttpStatusCode.NotFound && heldReturnWasAmbiguous))
                    {
                        // 404 after a 503: the earlier return may have been done before Redis went away.
                        held = null;
                    }
                    else if (answer.Status == HttpStatusCode.ServiceUnavailable)
                    {
                        heldReturnWasAmbiguous = true;
                    }
                    else
                    {
                        problems.Enqueue($"client {client}: DELETE {held} answered {(int)answer.Status} {answer.Body}");
                        held = null;
                    }
                }

                if (random.Next(4) == 0)
                {
                    await http.SendAsync(api, HttpMethod.Get, "api/v3/status?view=pools,queue");
                }

                await Task.Delay(ThinkTime, TimeProvider.System);
            }

            if (held is not null)
            {
                heldAtTheEnd.Enqueue(held);
            }
        }

        var load = Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(() => ClientAsync(c))));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System);
            var checkoutsBefore = handedOut.Count;

            // Outage.
            var redisPid = await RedisPidAsync(deployment.Redis);
            var killing = http.Now;
            if (kind == OutageKind.Killed)
            {
                await deployment.Redis.StopAsync();
            }
            else
            {
                await SignalAsync("STOP", redisPid);
            }

            var down = http.Now;
            await Task.Delay(Outage, TimeProvider.System);
            var restarting = http.Now;
            if (kind == OutageKind.Killed)
            {
                await deployment.Redis.StartAsync();
            }
            else
            {
                await SignalAsync("CONT", redisPid);
            }

            var up = http.Now;
            output.WriteLine($"Redis {kind.ToString().ToLowerInvariant()} at {killing.TotalSeconds:0.000} s (away at {down.TotalSeconds:0.000} s), back at {restarting.TotalSeconds:0.000} s (answering at {up.TotalSeconds:0.000} s); {checkoutsBefore} checkouts before the outage");

            // Recovery: a checkout (and its return) succeeds through every API process.
            var recovery = await Task.WhenAll(apis.Select((_, api) => FirstCheckoutAsync(http, api, handedOut, problems)));
            output.WriteLine($"checkouts succeed again through every API {recovery.Max().TotalSeconds:0.00} s after Redis answers ({string.Join(", ", recovery.Select((r, i) => $"api-{i} {r.TotalSeconds:0.00} s"))})");

            await stopLoad.CancelAsync();
            await load.DefaultTimeout();

            // Judge every answer given around the outage.
            var records = http.Records.ToList();
            var duringOutage = records.Where(r => r.Start >= down && r.End <= restarting).ToList();
            var answeredWhileAway = records.Where(r => r.End >= killing && r.End <= restarting).ToList();
            var straddling = records.Where(r => r.Start <= restarting && r.End > restarting).ToList();
            var longest = answeredWhileAway.MaxBy(r => r.Elapsed)!;
            var longestStraddling = straddling.MaxBy(r => r.Elapsed);
            output.WriteLine(
                $"{records.Count} requests in all, {duringOutage.Count} of them entirely while Redis was away; "
                + $"longest answer given while Redis was away {longest.Elapsed.TotalMilliseconds:0} ms ({longest}); "
                + $"longest of the {straddling.Count} asked before and answered after its return {longestStraddling?.Elapsed.TotalMilliseconds ?? 0:0} ms ({longestStraddling})");

            foreach (var record in records.Where(r => r.Status == 0 || ((int)r.Status >= 500 && r.Status != HttpStatusCode.ServiceUnavailable)).Take(10))
            {
                problems.Enqueue($"5xx or no answer: {record}");
            }

            foreach (var record in answeredWhileAway.Where(r => r.Elapsed > AnswerLimit).Take(10))
            {
                problems.Enqueue($"answered after more than {AnswerLimit.TotalSeconds:0} s while Redis was away: {record}");
            }

            foreach (var record in straddling.Where(r => r.Elapsed > StraddlingAnswerLimit).Take(10))
            {
                problems.Enqueue($"asked while Redis was away, answered after more than {StraddlingAnswerLimit.TotalSeconds:0} s: {record}");
            }

            foreach (var record in duringOutage.Where(r => !IsUnavailableError(r)).Take(10))
            {
                problems.Enqueue($"not a 503 {{\"ok\": false, \"error\": …}} while Redis was away: {record}");
            }

            foreach (var problem in problems.Take(20))
            {
                output.WriteLine("problem: " + problem);
            }

            // Against a frozen Redis every answer takes the operation timeout, so there are fewer of them.
            duringOutage.Count.ShouldBeGreaterThan(kind == OutageKind.Killed ? 20 : 5, "the clients kept asking while Redis was away");
            duringOutage.Select(r => r.Api).Distinct().Count().ShouldBe(apis.Length, "every API process was asked while Redis was away");
            problems.ShouldBeEmpty();

            // Give back whatever the clients still hold, so the pools can be judged.
            foreach (var held in heldAtTheEnd)
            {
                var answer = await http.SendAsync(0, HttpMethod.Delete, $"api/v3/vm/{held}");
                new[] { HttpStatusCode.OK, HttpStatusCode.NotFound }.ShouldContain(answer.Status, $"returning {held} after the load: {answer}");
            }

            // The manager refills: every pool back to its size, nothing pending.
            var refill = Stopwatch.StartNew();
            StatusFigures? last = null;
            try
            {
                await VmPoolerDeployment.WaitUntilAsync(
                    async () => (last = await VmPoolerDeployment.TryReadStatusAsync(apis[1].Client)) is { } s
                        && s.Pools.Values.All(p => p.Ready == p.Max && p.Pending == 0),
                    () => $"every pool is back to {PoolSize} ready VMs (last: {last})",
                    RecoveryDeadline);
            }
            catch (TimeoutException)
            {
                output.WriteLine("Redis after the timeout:\n" + await deployment.DumpRedisAsync());
                throw;
            }

            output.WriteLine($"pools full again {(http.Now - up).TotalSeconds:0.00} s after Redis answers ({refill.Elapsed.TotalSeconds:0.00} s after the load stopped): {last}");

            // Checkouts whose answer Redis took with it (taken, but the API answered 503) may leave a VM running
            // with no holder; nothing else may.
            var unansweredCheckouts = records.Count(r => r.Start <= up && r.End >= killing && r.Method == "POST" && r.Status == HttpStatusCode.ServiceUnavailable);
            last!.Pools.Values.Sum(p => p.Running).ShouldBeLessThanOrEqualTo(unansweredCheckouts, $"VMs left running with no holder: {last}");

            // The manager noticed, backed off and carried on; no process was restarted.
            manager.StandardOutput.ShouldContain("the inventory is unavailable, retrying in", customMessage: "the manager logs that it backs off");
            if (kind == OutageKind.Killed)
            {
                foreach (var process in new[] { manager }.Concat(apis))
                {
                    process.StandardOutput.ShouldContain("restored", customMessage: "every process logs that its Redis connection is back");
                }
            }

            deployment.ShouldAllBeRunning();
            new[] { manager }.Concat(apis).Select(p => p.Id).ShouldBe(pids);
        }
        finally
        {
            await stopLoad.CancelAsync();
            try
            {
                await load.DefaultTimeout();
            }
            catch (Exception ex) when (ex is TimeoutException or HttpRequestException)
            {
                output.WriteLine("the load did not stop cleanly: " + ex.Message);
            }
        }
    }

    /// <summary>The process id of the Redis server (from <c>INFO server</c>).</summary>
    private static async Task<int> RedisPidAsync(RedisServer redis)
    {
        var info = await redis.CliAsync("info", "server");
        var line = info.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("process_id:", StringComparison.Ordinal));
        return int.Parse(line["process_id:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Sends a signal (<c>STOP</c>, <c>CONT</c>) to a process with <c>kill</c>.</summary>
    private static async Task SignalAsync(string signal, int pid)
    {
        var info = new ProcessStartInfo("kill") { UseShellExecute = false, RedirectStandardError = true };
        info.ArgumentList.Add("-" + signal);
        info.ArgumentList.Add(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var kill = Process.Start(info)!;
        var error = await kill.StandardError.ReadToEndAsync();
        await kill.WaitForExitAsync().DefaultTimeout();
        kill.ExitCode.ShouldBe(0, $"kill -{signal} {pid}: {error}");
    }

    /// <summary>
    /// Redis freezes while the manager is filling large pools (so it is registering new VMs all the time). Operations
    /// that timed out on the manager's side still run when Redis thaws; none of them may leave a pool short: within a
    /// deadline every pool holds exactly its size, nothing pending.
    /// </summary>
    [Fact]
    public async Task RedisFrozenWhileManagerFills_PoolsConvergeToExactlyTheirSize()
    {
        const int BigPool = 500;
        string[] pools = ["big-1", "big-2", "big-3", "big-4"];
        var yaml = $"""
            :providers:
              :dummy:
                createvm_min_time: 0.05
                createvm_max_time: 0.1
                boot_max_time: 0
            :config:
              task_limit: 50
              check_loop_delay_min: 0.1
              check_loop_delay_max: 1
            :pools:
            {string.Concat(pools.Select(p => $"  - name: '{p}'\n    size: {BigPool}\n    provider: dummy\n"))}
            """;
        await using var deployment = await VmPoolerDeployment.StartAsync(output, yaml);
        var api = await deployment.StartApiAsync("api");
        var redisPid = await RedisPidAsync(deployment.Redis);
        deployment.StartManager("manager");
        StatusFigures? last = null;
        await VmPoolerDeployment.WaitUntilAsync(
            async () => (last = await VmPoolerDeployment.TryReadStatusAsync(api.Client)) is { } s && s.Pools.Values.Sum(p => p.Ready) >= BigPool / 2,
            () => $"the manager is filling the pools (last: {last})",
            TimeSpan.FromSeconds(30));

        await SignalAsync("STOP", redisPid);
        output.WriteLine($"Redis frozen mid-fill: {last}");
        await Task.Delay(TimeSpan.FromSeconds(3), TimeProvider.System);
        await SignalAsync("CONT", redisPid);
        var thawed = Stopwatch.StartNew();

        try
        {
            await VmPoolerDeployment.WaitUntilAsync(
                async () => (last = await VmPoolerDeployment.TryReadStatusAsync(api.Client)) is { } s
                    && s.Pools.Values.All(p => p.Ready == BigPool && p.Pending == 0),
                () => $"every pool holds exactly {BigPool} ready VMs and none pending (last: {last})",
                TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            output.WriteLine("Redis after the timeout:\n" + await deployment.DumpRedisAsync());
            throw;
        }

        output.WriteLine($"full {thawed.Elapsed.TotalSeconds:0.0} s after Redis thawed: {last}");
        deployment.ShouldAllBeRunning();
    }

    private static bool IsUnavailableError(Record record)
    {
        if (record.Status != HttpStatusCode.ServiceUnavailable || record.ContentType != "application/json")
        {
            return false;
        }

        try
        {
            var body = JsonNode.Parse(record.Body)?.AsObject();
            return body is not null
                && body.Select(p => p.Key).SequenceEqual(["ok", "error"])
                && body["ok"]!.GetValue<bool>() == false
                && body["error"]!.GetValue<string>().Length > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static JsonObject? ParseObject(Record record)
    {
        try
        {
            return JsonNode.Parse(record.Body)?.AsObject();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Checks out (and returns) one VM through one API, retrying until it works; the time it took.</summary>
    private static async Task<TimeSpan> FirstCheckoutAsync(TimedClients http, int api, ConcurrentDictionary<string, int> handedOut, ConcurrentQueue<string> problems)
    {
        var started = Stopwatch.StartNew();
        string? hostname = null;
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                var answer = await http.SendAsync(api, HttpMethod.Post, $"api/v3/vm/{Pools[0]}");
                hostname = answer.Status == HttpStatusCode.OK ? ParseObject(answer)?[Pools[0]]?["hostname"]?.GetValue<string>() : null;
                return hostname is not null;
            },
            $"a checkout through api-{api} succeeds after Redis is back",
            RecoveryDeadline);
        var elapsed = started.Elapsed;
        if (!handedOut.TryAdd(hostname!, -1 - api))
        {
            problems.Enqueue($"{hostname} handed out again by api-{api} after the outage");
        }

        var returned = await http.SendAsync(api, HttpMethod.Delete, $"api/v3/vm/{hostname}");
        if (returned.Status != HttpStatusCode.OK)
        {
            problems.Enqueue($"returning {hostname} through api-{api} after the outage: {(int)returned.Status} {returned.Body}");
        }

        return elapsed;
    }

    private async Task WaitUntilFullAsync(VmPoolerProcess api, string when)
    {
        var fill = Stopwatch.StartNew();
        await AsyncTestHelpers.WaitUntilAsync(
            async () => VmPoolerDeployment.IsFullAndIdle(await VmPoolerDeployment.TryReadStatusAsync(api.Client)),
            $"every pool has {PoolSize} ready VMs {when}",
            TimeSpan.FromSeconds(30));
        output.WriteLine($"pools full {when} after {fill.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>One answer, timed on the test's clock (<see cref="TimedClients.Now"/>); status 0 when none came.</summary>
    private sealed record Record(int Api, string Method, string Path, TimeSpan Start, TimeSpan End, HttpStatusCode Status, string? ContentType, string Body)
    {
        public TimeSpan Elapsed => End - Start;

        public override string ToString()
            => $"api-{Api} {Method} {Path} at {Start.TotalSeconds:0.000} s: {(int)Status} in {Elapsed.TotalMilliseconds:0} ms {Body.ReplaceLineEndings(" ")}";
    }

    /// <summary>A client per API process with its own time limit, recording every request's timing and answer.</summary>
    private sealed class TimedClients : IDisposable
    {
        private readonly HttpClient[] _clients;
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public TimedClients(IReadOnlyList<VmPoolerProcess> apis, TimeSpan timeout)
        {
            _clients = [.. apis.Select(a => new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false })
            {
                BaseAddress = a.BaseAddress,
                Timeout = timeout,
            })];
        }

        public ConcurrentQueue<Record> Records { get; } = new();

        public TimeSpan Now => _clock.Elapsed;

        public async Task<Record> SendAsync(int api, HttpMethod method, string path)
        {
            var start = Now;
            Record record;
            try
            {
                using var request = new HttpRequestMessage(method, path);
                if (method == HttpMethod.Post)
                {
                    request.Content = new ByteArrayContent([]);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                }

                using var response = await _clients[api].SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                record = new Record(api, method.Method, path, start, Now, response.StatusCode, response.Content.Headers.ContentType?.ToString(), body);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                record = new Record(api, method.Method, path, start, Now, 0, null, $"no answer: {ex.GetType().Name}: {ex.Message}");
            }

            Records.Enqueue(record);
            return record;
        }

        public void Dispose()
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }
    }
}
