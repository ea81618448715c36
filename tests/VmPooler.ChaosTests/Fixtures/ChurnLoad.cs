using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VmPooler.ChaosTests.Fixtures;

/// <summary>
/// Clients that check VMs out through the API processes (picking one at random for every request), hold each for a
/// random time, look at it while holding it, and give it back, checking the invariants as they go:
/// <list type="bullet">
/// <item>no VM is held by two clients at once (a checkout answering a VM another client holds);</item>
/// <item>no held VM is destroyed (the provider no longer has it) or reported gone (<c>GET /vm</c> 404, or a state other
/// than running) while held;</item>
/// <item>no answer is a 5xx other than 503, no 503 lacks a JSON <c>ok: false</c> body, and no request hangs.</item>
/// </list>
/// A 503 (empty pool, or Redis away) is an expected answer and is counted.
/// </summary>
internal sealed class ChurnLoad : IDisposable
{
    /// <summary>A request not answered within this counts as hanging (a violation).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    private readonly ChaosDeployment _deployment;
    private readonly IReadOnlyList<Uri> _apis;
    private readonly HttpClient[] _clients;
    private readonly ConcurrentDictionary<string, int> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TimeSpan> _handedOut = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _maxHold;
    private readonly int _seed;
    private long _checkouts;
    private long _returns;
    private long _refused;
    private long _requests;
    private long _lookups;
    private long _lastCheckoutTicks;
    private long _unavailableCheckouts;

    public ChurnLoad(ChaosDeployment deployment, IReadOnlyList<Uri> apis, int seed, TimeSpan maxHold)
    {
        _deployment = deployment;
        _apis = apis;
        _seed = seed;
        _maxHold = maxHold;
        _clients = [.. apis.Select(a => new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, MaxConnectionsPerServer = 64 })
        {
            BaseAddress = a,
            Timeout = RequestTimeout,
        })];
    }

    public long Checkouts => Interlocked.Read(ref _checkouts);

    public long Returns => Interlocked.Read(ref _returns);

    /// <summary>503 answers (empty pool, Redis away).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public long Requests => Interlocked.Read(ref _requests);

    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>Checkouts answered 503 with an error (the inventory unavailable) or not at all: they may have run.</summary>
    public long UnavailableCheckouts => Interlocked.Read(ref _unavailableCheckouts);

    /// <summary>Every VM handed out so far, with the time (since the load started) of its first checkout.</summary>
    public IReadOnlyDictionary<string, TimeSpan> HandedOut => _handedOut;

    /// <summary>How many VMs clients hold right now.</summary>
    public int Held => _held.Count;

    /// <summary>Time since the load started of the last successful checkout.</summary>
    public TimeSpan LastCheckoutAt => TimeSpan.FromTicks(Interlocked.Read(ref _lastCheckoutTicks));

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Violation(string text) => _violations.Enqueue($"{_clock.Elapsed.TotalSeconds:0.000} s: {text}");

    /// <summary>
    /// Runs <paramref name="clients"/> clients until <paramref name="stop"/> is cancelled; every client then returns
    /// what it holds (retrying through 503s for up to <paramref name="drainTimeout"/>).
    /// </summary>
    public Task RunAsync(int clients, CancellationToken stop, TimeSpan drainTimeout)
        => Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c, stop, drainTimeout))));

    public string Figures()
        => $"{Checkouts} checkouts, {Returns} returns, {Refused} answers 503, {Requests} requests, {Interlocked.Read(ref _lookups)} lookups while held, "
            + $"{_violations.Count} invariant violations, over {_clock.Elapsed.TotalSeconds:0.0} s ({Checkouts / Math.Max(_clock.Elapsed.TotalSeconds, 0.001):0} checkouts/s)";

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private async Task ClientAsync(int client, CancellationToken stop, TimeSpan drainTimeout)
    {
        var random = new Random(HashCode.Combine(_seed, client));
        while (!stop.IsCancellationRequested)
        {
            var pool = _deployment.Pools[random.Next(_deployment.Pools.Count)];
            var answer = await SendAsync(random, HttpMethod.Post, $"api/v3/vm/{pool}");
            if (answer is { Status: HttpStatusCode.OK } && answer.Body?[pool]?["hostname"] is JsonValue value && value.TryGetValue<string>(out var vm))
            {
                Interlocked.Increment(ref _checkouts);
                Interlocked.Exchange(ref _lastCheckoutTicks, _clock.Elapsed.Ticks);
                _handedOut.TryAdd(vm, _clock.Elapsed);
                if (!_held.TryAdd(vm, client))
                {
                    Violation($"{vm} handed to client {client} while client {_held.GetValueOrDefault(vm)} holds it");
                    continue;
                }

                await HoldAsync(random, client, vm, stop);
                _held.TryRemove(vm, out _);
                await ReturnAsync(random, client, vm, drainTimeout);
            }
            else
            {
                if (answer is null || (answer.Status == HttpStatusCode.ServiceUnavailable && answer.Body?["error"] is not null))
                {
                    Interlocked.Increment(ref _unavailableCheckouts);
                }

                await DelayAsync(TimeSpan.FromMilliseconds(random.Next(5, 40)), CancellationToken.None);
            }
        }
    }

    private async Task HoldAsync(Random random, int client, string vm, CancellationToken stop)
    {
        var until = _clock.Elapsed + (_maxHold * random.NextDouble());
        do
        {
            if (!_deployment.ProviderHas(vm))
            {
                Violation($"{vm} held by client {client} no longer exists in the provider (destroyed while held)");
                return;
            }

            if (random.Next(3) == 0)
            {
                Interlocked.Increment(ref _lookups);
                var answer = await SendAsync(random, HttpMethod.Get, $"api/v3/vm/{vm}");
                if (answer is { Status: HttpStatusCode.OK })
                {
                    var state = answer.Body?[vm]?["state"]?.GetValue<string>();
                    if (state != "running")
                    {
                        Violation($"{vm} held by client {client} is reported as '{state}' instead of running");
                    }
                }
                else if (answer is { Status: HttpStatusCode.NotFound })
                {
                    Violation($"{vm} held by client {client} is reported gone (GET answers 404)");
                }
            }

            await DelayAsync(TimeSpan.FromMilliseconds(random.Next(5, 60)), stop);
        }
        while (_clock.Elapsed < until && !stop.IsCancellationRequested);
    }

    private async Task ReturnAsync(Random random, int client, string vm, TimeSpan drainTimeout)
    {
        var ambiguous = false;
        var deadline = _clock.Elapsed + drainTimeout;
        while (_clock.Elapsed < deadline)
        {
            var answer = await SendAsync(random, HttpMethod.Delete, $"api/v3/vm/{vm}");
            if (answer is { Status: HttpStatusCode.OK } || (answer is { Status: HttpStatusCode.NotFound } && ambiguous))
            {
                // 404 after a 503 or a timeout: the earlier return may have happened before the answer was lost.
                Interlocked.Increment(ref _returns);
                return;
            }

            if (answer is null or { Status: HttpStatusCode.ServiceUnavailable })
            {
                ambiguous = true;
                await DelayAsync(TimeSpan.FromMilliseconds(random.Next(20, 100)), CancellationToken.None);
                continue;
            }

            Violation($"client {client}: DELETE {vm} answered {(int)answer.Status} {answer.Text}");
            return;
        }

        Violation($"client {client}: could not return {vm} within {drainTimeout.TotalSeconds:0} s");
    }

    private async Task<Answer?> SendAsync(Random random, HttpMethod method, string path)
    {
        var http = _clients[random.Next(_clients.Length)];
        Interlocked.Increment(ref _requests);
        try
        {
            using var request = new HttpRequestMessage(method, path);
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            JsonNode? body = null;
            try
            {
                body = text.Length > 0 ? JsonNode.Parse(text) : null;
            }
            catch (JsonException)
            {
                Violation($"{method} {path} via {http.BaseAddress} answered {(int)response.StatusCode} with a body that is not JSON: {Truncate(text)}");
            }

            var status = response.StatusCode;
            if (status == HttpStatusCode.ServiceUnavailable)
            {
                Interlocked.Increment(ref _refused);
                if (body?["ok"]?.GetValue<bool>() != false)
                {
                    Violation($"{method} {path} answered 503 without a JSON ok:false body: {Truncate(text)}");
                }
            }
            else if ((int)status >= 500)
            {
                Violation($"{method} {path} via {http.BaseAddress} answered {(int)status}: {Truncate(text)}");
            }

            return new Answer(status, body, text);
        }
        catch (TaskCanceledException)
        {
            Violation($"{method} {path} via {http.BaseAddress} hung for {RequestTimeout.TotalSeconds:0} s");
            return null;
        }
        catch (HttpRequestException ex)
        {
            Violation($"{method} {path} via {http.BaseAddress} failed: {ex.Message}");
            return null;
        }
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
        => await Task.Delay(delay, TimeProvider.System, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private sealed record Answer(HttpStatusCode Status, JsonNode? Body, string Text);
}
