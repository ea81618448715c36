namespace VmPooler.Core.OnDemand;

/// <summary>
/// On-demand provisioning requests (spec §2.6, §4.7): the API creates them, the manager clones their VMs and delivers
/// each one (ready → checked out to the request) until the request is complete, fails when its TTL passes, or is deleted.
/// Status changes are conditional on the current status, so a delete racing with a delivery never strands a VM.
/// </summary>
public interface IOnDemandStore
{
    /// <summary>Stores a new pending request; false (and no change) when the id is taken (also by a finished request still kept).</summary>
    Task<bool> CreateAsync(OnDemandRequest request, CancellationToken cancellationToken);

    /// <summary>The request, with what was delivered so far, or null.</summary>
    Task<OnDemandRequest?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Ids of the requests still pending, oldest first.</summary>
    Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken);

    /// <summary>Records <paramref name="vm"/> as delivered for <paramref name="entry"/>; false when the request is no longer pending.</summary>
    Task<bool> DeliverAsync(string id, OnDemandEntry entry, string vm, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the request from <paramref name="from"/> to <paramref name="to"/> (and drops it from the pending list); keeps it
    /// for <paramref name="keepFor"/> from now. False when it was not in <paramref name="from"/>.
    /// </summary>
    Task<bool> SetStatusAsync(string id, OnDemandStatus from, OnDemandStatus to, TimeSpan keepFor, string? reason, CancellationToken cancellationToken);

    /// <summary>
    /// Counts one failed VM of a pending request (a clone that failed, a VM that vanished or never became ready): adds one
    /// to its <see cref="OnDemandRequest.RetryCount"/> and keeps <paramref name="error"/> as its last error, marked
    /// <paramref name="permanent"/> when retrying cannot help. False (and no change) when the request is not pending.
    /// </summary>
    Task<bool> RecordFailureAsync(string id, string error, bool permanent, CancellationToken cancellationToken);
}

/// <summary>Where a request is in its life.</summary>
public enum OnDemandStatus
{
    Pending,
    Ready,
    Failed,
    Deleted,
}

/// <summary>One line of a request: <paramref name="Count"/> VMs of <paramref name="Pool"/>, asked for as <paramref name="Requested"/> (a pool or alias).</summary>
public sealed record OnDemandEntry(string Requested, string Pool, int Count)
{
    /// <summary>The entry's key among the delivered VMs: <c>requested:pool</c>.</summary>
    public string Key => $"{Requested}:{Pool}";
}

/// <summary>A request and what was delivered for it (entry key → VM names).</summary>
public sealed record OnDemandRequest(
    string Id,
    IReadOnlyList<OnDemandEntry> Entries,
    OnDemandStatus Status,
    DateTimeOffset Created,
    string? TokenHash = null,
    string? User = null,
    string? FailureReason = null)
{
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Delivered { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>How many of its VMs failed so far (each failure is retried while this stays within <c>max_vm_retries</c>).</summary>
    public int RetryCount { get; init; }

    /// <summary>The error of the last failed VM, if any.</summary>
    public string? LastError { get; init; }

    /// <summary>True once a VM failed with an error that retrying cannot fix (see <see cref="PermanentErrors"/>).</summary>
    public bool PermanentError { get; init; }

    /// <summary>Every VM delivered to the request, over all its entries.</summary>
    public IEnumerable<string> DeliveredVms => Delivered.Values.SelectMany(vms => vms);

    public int DeliveredCount(OnDemandEntry entry) => Delivered.TryGetValue(entry.Key, out var vms) ? vms.Count : 0;

    public bool IsComplete => Entries.All(e => DeliveredCount(e) >= e.Count);

    /// <summary>The entries as stored: <c>requested:pool:count</c> joined by commas (the original's <c>requested</c> field).</summary>
    public static string FormatEntries(IEnumerable<OnDemandEntry> entries) => string.Join(',', entries.Select(e => $"{e.Requested}:{e.Pool}:{e.Count}"));

    public static IReadOnlyList<OnDemandEntry> ParseEntries(string? text)
    {
        var entries = new List<OnDemandEntry>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = part.Split(':');
            if (fields.Length == 3 && int.TryParse(fields[2], System.Globalization.CultureInfo.InvariantCulture, out var count))
            {
                entries.Add(new OnDemandEntry(fields[0], fields[1], count));
            }
        }

        return entries;
    }
}

/// <summary>The in-memory store (one process). Kept requests are dropped lazily after their time.</summary>
public sealed class MemoryOnDemandStore(TimeProvider timeProvider) : IOnDemandStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (OnDemandRequest Request, Dictionary<string, List<string>> Delivered, DateTimeOffset? KeepUntil)> _requests =
        new(StringComparer.Ordinal);

    public Task<bool> CreateAsync(OnDemandRequest request, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Prune();
            if (_requests.ContainsKey(request.Id))
            {
                return Task.FromResult(false);
            }

            _requests[request.Id] = (request with { Status = OnDemandStatus.Pending }, new Dictionary<string, List<string>>(StringComparer.Ordinal), null);
            return Task.FromResult(true);
        }
    }

    public Task<OnDemandRequest?> GetAsync(string id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Prune();
            return Task.FromResult(_requests.TryGetValue(id, out var entry)
                ? entry.Request with { Delivered = entry.Delivered.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)[.. kv.Value], StringComparer.Ordinal) }
                : null);
        }
    }

    public Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<string>>(
                [.. _requests.Values.Where(r => r.Request.Status == OnDemandStatus.Pending).OrderBy(r => r.Request.Created).Select(r => r.Request.Id)]);
        }
    }

    public Task<bool> DeliverAsync(string id, OnDemandEntry entry, string vm, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_requests.TryGetValue(id, out var request) || request.Request.Status != OnDemandStatus.Pending)
            {
                return Task.FromResult(false);
            }

            if (!request.Delivered.TryGetValue(entry.Key, out var vms))
            {
                request.Delivered[entry.Key] = vms = [];
            }

            if (!vms.Contains(vm, StringComparer.Ordinal))
            {
                vms.Add(vm);
            }

            return Task.FromResult(true);
        }
    }

    public Task<bool> RecordFailureAsync(string id, string error, bool permanent, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_requests.TryGetValue(id, out var entry) || entry.Request.Status != OnDemandStatus.Pending)
            {
                return Task.FromResult(false);
            }

            var request = entry.Request with
            {
                RetryCount = entry.Request.RetryCount + 1,
                LastError = error,
                PermanentError = entry.Request.PermanentError || permanent,
            };
            _requests[id] = (request, entry.Delivered, entry.KeepUntil);
            return Task.FromResult(true);
        }
    }

    public Task<bool> SetStatusAsync(string id, OnDemandStatus from, OnDemandStatus to, TimeSpan keepFor, string? reason, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_requests.TryGetValue(id, out var entry) || entry.Request.Status != from)
            {
                return Task.FromResult(false);
            }

            _requests[id] = (entry.Request with { Status = to, FailureReason = reason ?? entry.Request.FailureReason }, entry.Delivered, timeProvider.GetUtcNow() + keepFor);
            return Task.FromResult(true);
        }
    }

    private void Prune()
    {
        var now = timeProvider.GetUtcNow();
        foreach (var (id, entry) in _requests.Where(kv => kv.Value.KeepUntil < now).ToList())
        {
            _requests.Remove(id);
        }
    }
}
