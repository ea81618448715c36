using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.MultiProcess;

/// <summary>
/// Issue 3, "many processes": four <c>--role api</c> processes and one <c>--role manager</c> on one Redis, 64 concurrent
/// clients checking VMs out and returning them through all four APIs. The Ruby original locked only inside one API
/// process and handed VMs out twice; here a VM is never handed out twice (a returned VM is destroyed, so any repeated
/// hostname is a double hand-out), nothing answers 5xx but 503, and at the end every pool is full again and every
/// handed-out VM is reported destroyed.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class ManyApiProcessesTests(ITestOutputHelper output)
{
    private const int ApiProcesses = 4;
    private const int Clients = 64;
    private const int Checkouts = 20_000;
    private const int PoolSize = 40;

    private static readonly string[] Pools = ["alpha", "bravo", "charlie", "delta"];

    /// <summary>Wall-clock limit of the load phase (the run must also finish in CI on two cores).</summary>
    private static readonly TimeSpan LoadDeadline = TimeSpan.FromSeconds(120);

    private static readonly TimeSpan EmptyPoolRetryDelay = TimeSpan.FromMilliseconds(10);

    private static string Yaml => $"""
        :providers:
          :dummy:
            createvm_max_time: 0
            boot_max_time: 0
        :config:
          task_limit: 50
          check_loop_delay_min: 0.1
          check_loop_delay_max: 1
          max_destroyed_records_per_pool: {Checkouts}
        :pools:
        {string.Concat(Pools.Select(p => $"  - name: '{p}'\n    size: {PoolSize}\n    provider: dummy\n"))}
        """;

    [Fact]
    public async Task CheckoutAndReturn_SixtyFourClientsOverFourApiProcesses_NeverHandsAVmOutTwiceAndEndsFullWithEveryVmDestroyed()
    {
        await using var deployment = await VmPoolerDeployment.StartAsync(output, Yaml);
        var fill = Stopwatch.StartNew();
        deployment.StartManager("manager");
        var apis = new List<VmPoolerProcess>();
        for (var i = 0; i < ApiProcesses; i++)
        {
            apis.Add(await deployment.StartApiAsync($"api-{i}"));
        }

        using var clients = new HttpClients(apis);
        await AsyncTestHelpers.WaitUntilAsync(
            async () => VmPoolerDeployment.IsFullAndIdle(await VmPoolerDeployment.TryReadStatusAsync(apis[0].Client)),
            $"every pool has {PoolSize} ready VMs",
            TimeSpan.FromSeconds(30));
        output.WriteLine($"{Pools.Length} pools × {PoolSize} filled {fill.Elapsed.TotalSeconds:0.0} s after the manager started (the API processes started meanwhile)");

        // Load: each client takes a ticket, checks a VM out of a random pool through the next API process, and
        // returns it at once (through the next one again).
        var handedOut = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var problems = new ConcurrentQueue<string>();
        var tickets = 0;
        var requests = 0;
        long emptyAnswers = 0;
        long unavailableAnswers = 0;
        long doubleHandOuts = 0;
        using var stop = new CancellationTokenSource(LoadDeadline, TimeProvider.System);
        var load = Stopwatch.StartNew();

        async Task ClientAsync(int client)
        {
            var random = new Random(client);
            while (!stop.IsCancellationRequested && Interlocked.Increment(ref tickets) <= Checkouts)
            {
                var pool = Pools[random.Next(Pools.Length)];
                string? hostname = null;
                while (hostname is null && !stop.IsCancellationRequested)
                {
                    var api = Interlocked.Increment(ref requests) % ApiProcesses;
                    var answer = await clients.SendAsync(api, HttpMethod.Post, $"api/v3/vm/{pool}");
                    switch (answer.Status)
                    {
                        case HttpStatusCode.OK:
                            hostname = answer.Object[pool]!["hostname"]!.GetValue<string>();
                            if (!handedOut.TryAdd(hostname, client))
                            {
                                Interlocked.Increment(ref doubleHandOuts);
                                problems.Enqueue($"{hostname} handed out again (to client {client} through api-{api}; first to client {handedOut[hostname]})");
                            }

                            break;
                        case HttpStatusCode.ServiceUnavailable when answer.Body.Contains("\"error\"", StringComparison.Ordinal):
                            // The inventory was too slow or away: allowed, but counted and reported.
                            Interlocked.Increment(ref unavailableAnswers);
                            await Task.Delay(EmptyPoolRetryDelay, TimeProvider.System);
                            break;
                        case HttpStatusCode.ServiceUnavailable:
                            answer.ShouldBeOkFalse(HttpStatusCode.ServiceUnavailable);
                            Interlocked.Increment(ref emptyAnswers);
                            await Task.Delay(EmptyPoolRetryDelay, TimeProvider.System);
                            break;
                        default:
                            problems.Enqueue($"POST /vm/{pool} through api-{api}: {(int)answer.Status} {answer.Body}");
                            return;
                    }
                }

                if (hostname is null)
                {
                    return;
                }

                var returnApi = Interlocked.Increment(ref requests) % ApiProcesses;
                var returned = await clients.SendAsync(returnApi, HttpMethod.Delete, $"api/v3/vm/{hostname}");
                if (returned.Status != HttpStatusCode.OK)
                {
                    problems.Enqueue($"DELETE /vm/{hostname} through api-{returnApi}: {(int)returned.Status} {returned.Body}");
                    return;
                }
            }
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(() => ClientAsync(c))));
        }
        finally
        {
            load.Stop();
        }

        var done = handedOut.Count;
        var rate = done / load.Elapsed.TotalSeconds;
        output.WriteLine(
            $"{done} checkouts + returns by {Clients} clients over {ApiProcesses} API processes in {load.Elapsed.TotalSeconds:0.0} s: "
            + $"{rate:0} checkouts/s; {emptyAnswers} 'pool empty' answers (retried), {unavailableAnswers} 'inventory unavailable' answers, "
            + $"{doubleHandOuts} double hand-outs");
        foreach (var problem in problems.Take(20))
        {
            output.WriteLine("problem: " + problem);
        }

        deployment.ShouldAllBeRunning();
        doubleHandOuts.ShouldBe(0, "a VM was handed out twice");
        problems.ShouldBeEmpty();
        stop.IsCancellationRequested.ShouldBeFalse(
            $"the load did not finish within {LoadDeadline.TotalSeconds:0} s: {done} of {Checkouts} checkouts ({rate:0}/s)");
        done.ShouldBe(Checkouts);

        // Afterwards: every pool is full again, with nothing pending, running or completed, whichever API answers.
        var settle = Stopwatch.StartNew();
        StatusFigures? last = null;
        await VmPoolerDeployment.WaitUntilAsync(
            async () => VmPoolerDeployment.IsFullAndIdle(last = await VmPoolerDeployment.TryReadStatusAsync(apis[0].Client)),
            () => $"every pool is back to {PoolSize} ready with nothing pending, running or completed (last: {last})",
            TimeSpan.FromSeconds(30));
        output.WriteLine($"pools back to full and idle {settle.Elapsed.TotalSeconds:0.0} s after the load: {last}");
        foreach (var api in apis)
        {
            VmPoolerDeployment.IsFullAndIdle(await VmPoolerDeployment.ReadStatusAsync(api.Client))
                .ShouldBeTrue($"{api.BaseAddress} tells the same");
        }

        // Every VM handed out is destroyed (all of them are asked, spread over the four APIs): the configuration keeps
        // every destroyed VM's record (by default only the newest 1000 per pool are kept, and 5 000 per pool went).
        var verify = Stopwatch.StartNew();
        var notDestroyed = new ConcurrentQueue<string>();
        var index = 0;
        await Parallel.ForEachAsync(
            handedOut.Keys,
            new ParallelOptions { MaxDegreeOfParallelism = Clients },
            async (hostname, _) =>
            {
                var api = Interlocked.Increment(ref index) % ApiProcesses;
                var answer = await clients.SendAsync(api, HttpMethod.Get, $"api/v3/vm/{hostname}");
                var vm = hostname.Split('.')[0];
                var state = answer.Status == HttpStatusCode.OK ? answer.Object[vm]?["state"]?.GetValue<string>() : null;
                if (state != "destroyed")
                {
                    notDestroyed.Enqueue($"{hostname}: {(int)answer.Status} {answer.Body}");
                }
            });
        output.WriteLine($"{handedOut.Count} handed-out VMs checked in {verify.Elapsed.TotalSeconds:0.0} s: {notDestroyed.Count} not reported destroyed");
        notDestroyed.Take(10).ShouldBeEmpty();
        deployment.ShouldAllBeRunning();
    }

    /// <summary>One HTTP client per API process, shared by all the load's clients.</summary>
    private sealed class HttpClients(IReadOnlyList<VmPoolerProcess> apis) : IDisposable
    {
        private readonly HttpClient[] _clients = [.. apis.Select(a => VmPoolerServer.CreateClient(a.BaseAddress!))];

        public Task<ApiResponse> SendAsync(int api, HttpMethod method, string path)
            => VmPoolerServer.SendAsync(_clients[api], method, path);

        public void Dispose()
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }
    }
}
