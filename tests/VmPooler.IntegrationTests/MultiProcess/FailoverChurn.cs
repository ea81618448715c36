using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using VmPooler.IntegrationTests.Fixtures;

namespace VmPooler.IntegrationTests.MultiProcess;

/// <summary>
/// Clients that check VMs out and give them back through several API processes in turn, for as long as the test lets
/// them, and count what a failover does to them: a VM handed out while another client still holds it (a double
/// hand-out), a checkout that was acknowledged and then gone (its return finds the VM not running, with no earlier
/// ambiguous 503 for it), and every answer's status and time on one clock.
/// </summary>
internal sealed class FailoverChurn : IDisposable
{
    private readonly HttpClient[] _clients;
    private readonly string[] _pools;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<string, int> _held = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _running;

    public FailoverChurn(IEnumerable<VmPoolerProcess> apis, string[] pools)
    {
        _clients = [.. apis.Select(a => new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = a.BaseAddress, Timeout = TimeSpan.FromSeconds(10) })];
        _pools = pools;
    }

    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Every checkout answer: when it was asked, and its status (0: no answer).</summary>
    public ConcurrentQueue<(TimeSpan Start, HttpStatusCode Status)> Checkouts { get; } = new();

    public ConcurrentQueue<string> DoubleHandOuts { get; } = new();

    public ConcurrentQueue<string> LostCheckouts { get; } = new();

    /// <summary>Answers that are neither 200, 503 nor an expected 404/400 after a lost or ambiguous checkout.</summary>
    public ConcurrentQueue<string> Unexpected { get; } = new();

    public int Returns;

    /// <summary>503s saying the inventory (Redis) is unavailable (not those of a pool that ran dry), and requests without an answer.</summary>
    public int Unavailable;

    /// <summary>503s of a pool that ran dry.</summary>
    public int Empty;

    public void Start(int clients) => _running = Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c))));

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await (_running ?? Task.CompletedTask);
    }

    /// <summary>Successful checkouts asked within [from, to).</summary>
    public int CheckoutsBetween(TimeSpan from, TimeSpan to) => Checkouts.Count(c => c.Status == HttpStatusCode.OK && c.Start >= from && c.Start < to);

    /// <summary>The first successful checkout asked at or after <paramref name="from"/>.</summary>
    public TimeSpan? FirstCheckoutAfter(TimeSpan from)
        => Checkouts.Where(c => c.Status == HttpStatusCode.OK && c.Start >= from).Select(c => (TimeSpan?)c.Start).DefaultIfEmpty(null).Min();

    private async Task ClientAsync(int client)
    {
        var random = new Random(client);
        var turn = client;
        while (!_stop.IsCancellationRequested)
        {
            var pool = _pools[random.Next(_pools.Length)];
            var (status, body) = await SendAsync(turn++, HttpMethod.Post, $"api/v3/vm/{pool}");
            Checkouts.Enqueue((Now, status));
            if (status == HttpStatusCode.OK && (JsonNode.Parse(body) as JsonObject)?[pool]?["hostname"]?.GetValue<string>() is { } vm)
            {
                if (!_held.TryAdd(vm, client))
                {
                    DoubleHandOuts.Enqueue($"{vm} handed out to client {client} while client {_held[vm]} holds it");
                }

                await ReturnAsync(client, vm, turn++);
            }
            else if (status == HttpStatusCode.ServiceUnavailable && !body.Contains("inventory (Redis)", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref Empty);
            }
            else if (status is HttpStatusCode.ServiceUnavailable or 0)
            {
                Interlocked.Increment(ref Unavailable);
            }
            else if (status != HttpStatusCode.OK)
            {
                Unexpected.Enqueue($"checkout: {(int)status} {body}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }

    /// <summary>Gives <paramref name="vm"/> back, retrying through 503s until an answer says what became of it.</summary>
    private async Task ReturnAsync(int client, string vm, int turn)
    {
        var ambiguous = false;
        while (true)
        {
            var (status, body) = await SendAsync(turn++, HttpMethod.Delete, $"api/v3/vm/{vm}");
            if (status == HttpStatusCode.OK)
            {
                Interlocked.Increment(ref Returns);
                break;
            }

            if (status is HttpStatusCode.ServiceUnavailable or 0)
            {
                Interlocked.Increment(ref Unavailable);
                ambiguous = true;
                await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
                continue;
            }

            // Not running (any more): after an ambiguous 503 the earlier return may have been done; otherwise the
            // acknowledged checkout itself was lost in the failover.
            if (!ambiguous)
            {
                LostCheckouts.Enqueue($"{vm} (client {client}): return answered {(int)status} {body}");
            }

            break;
        }

        _held.TryRemove(vm, out _);
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(int turn, HttpMethod method, string path)
    {
        try
        {
            using var request = new HttpRequestMessage(method, path);
            if (method == HttpMethod.Post)
            {
                request.Content = new ByteArrayContent([]);
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            }

            using var response = await _clients[turn % _clients.Length].SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return (0, ex.Message);
        }
    }

    public void Dispose()
    {
        _stop.Dispose();
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }
}
