using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Core.Metrics;
using VmPooler.Core.Naming;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Operations;
using VmPooler.Core.Providers;

namespace VmPooler.Manager;

/// <summary>
/// Brings one pool towards its desired state in a single pass (spec §4.2): reconciles the provider's VMs with the
/// inventory, checks pending and ready VMs, expires running ones, destroys completed ones, trims excess and starts the
/// clones the pool lacks. Clones and destroys run in the background, bounded by <c>task_limit</c>; every provider
/// call has a time limit; every decision reads the injected clock.
/// </summary>
public sealed class PoolReconciler : IAsyncDisposable
{
    private const int MaxNameAttempts = 6;
    private const int CheckParallelism = 16;

    private readonly VmPoolerOptions _options;
    private readonly IInventory _inventory;
    private readonly IReadOnlyDictionary<string, IVmProvider> _providers;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly VmNameGenerator _names;
    private readonly SemaphoreSlim _cloneSlots;
    private readonly SemaphoreSlim _destroySlots;
    private readonly ConcurrentDictionary<string, byte> _busy = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CloneBackoff> _backoff = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly ConcurrentDictionary<string, bool> _emptyFlags = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TimeSpan _dataTtl;
    private readonly TimeSpan _providerTimeout;
    private readonly IPoolOverrideStore? _overrides;
    private readonly IOnDemandStore? _onDemand;
    private readonly SemaphoreSlim _onDemandSlots;
    private readonly VmPoolerMetrics? _metrics;
    private readonly DeadLetterRecorder? _deadLetters; // DLQ

    public PoolReconciler(
        VmPoolerOptions options,
        IInventory inventory,
        IEnumerable<IVmProvider> providers,
        TimeProvider timeProvider,
        ILogger<PoolReconciler> logger,
        VmNameGenerator? names = null,
        IPoolOverrideStore? overrides = null,
        IOnDemandStore? onDemand = null,
        VmPoolerMetrics? metrics = null,
        DeadLetterRecorder? deadLetters = null)
    {
        _deadLetters = deadLetters; // DLQ
        _metrics = metrics;
        _overrides = overrides;
        _onDemand = onDemand;
        _onDemandSlots = new SemaphoreSlim(options.Config.OnDemandCloneLimit, options.Config.OnDemandCloneLimit);
        _options = options;
        _inventory = inventory;
        _providers = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);
        _time = timeProvider;
        _logger = logger;
        _names = names ?? new VmNameGenerator();
        _cloneSlots = new SemaphoreSlim(options.Config.TaskLimit, options.Config.TaskLimit);
        _destroySlots = new SemaphoreSlim(options.Config.TaskLimit, options.Config.TaskLimit);
        _dataTtl = TimeSpan.FromHours(options.Redis?.DataTtlHours ?? GlobalOptions.DefaultDataTtlHours);
        _providerTimeout = TimeSpan.FromSeconds(options.Config.ProviderTimeoutSeconds);
    }

    /// <summary>Called with a pool name when background work on that pool finished (a clone), so it gets another pass.</summary>
    public Action<string>? PoolNeedsPass { get; set; }

    /// <summary>Clones currently running, across all pools.</summary>
    public int ClonesInFlight => _options.Config.TaskLimit - _cloneSlots.CurrentCount;

    /// <summary>Completes when every background clone and destroy started so far has finished (for tests and shutdown).</summary>
    public Task WhenIdleAsync() => Task.WhenAll(_background.Keys);

    /// <summary>Runs one pass over <paramref name="pool"/>.</summary>
    public async Task<PassResult> ReconcileAsync(PoolOptions pool, CancellationToken cancellationToken)
    {
        var drained = 0;
        if (_overrides is not null)
        {
            (pool, drained) = await ApplyOverridesAsync(pool, cancellationToken);
        }

        var provider = _providers[pool.Provider];
        var timings = LifecycleRules.TimingsFor(pool, _options.Config);

        // The inventory is read before the provider is listed: a VM whose destroy finishes in between then merely
        // looks missing (and forgetting it again does nothing), instead of looking unknown and being destroyed twice.
        // A VM cloned in between is registered as pending before its clone starts, so it is never taken for unknown.
        var snapshot = await _inventory.GetPoolAsync(pool.Name, cancellationToken);
        var busyAtSnapshot = new HashSet<string>(_busy.Keys, StringComparer.Ordinal);
        IReadOnlyList<string> listed;
        try
        {
            listed = await CallAsync(c => provider.VmsInPoolAsync(pool, c), _providerTimeout, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return PassResult.ProviderFailed(ex.Message);
        }

        var inProvider = new HashSet<string>(listed, StringComparer.Ordinal);
        var known = snapshot.Names();
        var now = _time.GetUtcNow();
        var work = drained;
        var ready = snapshot.Ready.Count;
        // VMs cloned for on-demand requests are not the pool's: they do not count towards its size.
        var pending = snapshot.Pending.Count(vm => !IsOnDemand(vm));
        var toDestroy = new List<string>();

        // 1. VMs the provider has and the inventory does not know: track them as completed, then destroy them.
        foreach (var name in inProvider)
        {
            if (!_busy.ContainsKey(name) && !known.Contains(name))
            {
                var fields = new Dictionary<string, string>
                {
                    [VmFields.Template] = pool.Name,
                    [VmFields.Pool] = pool.Name,
                    [VmFields.Discovered] = VmTime.Format(now),
                };
                if (await _inventory.AdoptDiscoveredAsync(pool.Name, name, fields, cancellationToken))
                {
                    ManagerLog.Discovered(_logger, pool.Name, name);
                    toDestroy.Add(name);
                    work++;
                }
            }
        }

        // 2. Running VMs: gone from the provider, or past their lifetime → completed.
        foreach (var vm in snapshot.Running)
        {
            if (_busy.ContainsKey(vm.Name))
            {
                continue;
            }

            var missing = !inProvider.Contains(vm.Name);
            if (missing || LifecycleRules.IsRunningExpired(vm, timings.DefaultLifetimeHours, now))
            {
                // Conditional on the checkout and lifetime we judged by: a lifetime extended meanwhile wins.
                var expect = new Dictionary<string, string?>
                {
                    [VmFields.Checkout] = vm.Get(VmFields.Checkout),
                    [VmFields.Lifetime] = vm.Get(VmFields.Lifetime),
                };
                if (await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Running, VmState.Completed, expect: expect, cancellationToken: cancellationToken))
                {
                    if (missing)
                    {
                        ManagerLog.Missing(_logger, pool.Name, vm.Name, "running");
                    }
                    else
                    {
                        ManagerLog.RunningExpired(_logger, pool.Name, vm.Name, LifecycleRules.LifetimeHours(vm, timings.DefaultLifetimeHours));
                        toDestroy.Add(vm.Name);
                    }

                    work++;
                }
            }
        }

        // 3. Ready VMs: gone → completed; past ready_ttl → completed; otherwise health-check every vm_checktime.
        var readyToCheck = new List<VmRecord>();
        foreach (var vm in snapshot.Ready)
        {
            if (_busy.ContainsKey(vm.Name))
            {
                continue;
            }

            if (!inProvider.Contains(vm.Name))
            {
                if (await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Ready, VmState.Completed, cancellationToken: cancellationToken))
                {
                    ManagerLog.Missing(_logger, pool.Name, vm.Name, "ready");
                    ready--;
                    work++;
                }

                continue;
            }

            switch (LifecycleRules.EvaluateReady(vm, timings, now))
            {
                case ReadyVerdict.Expired:
                    if (await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Ready, VmState.Completed, cancellationToken: cancellationToken))
                    {
                        ManagerLog.ReadyExpired(_logger, pool.Name, vm.Name, Math.Round((now - (vm.GetTime(VmFields.Ready) ?? now)).TotalMinutes, 1));
                        toDestroy.Add(vm.Name);
                        ready--;
                        work++;
                    }

                    break;
                case ReadyVerdict.Check:
                    readyToCheck.Add(vm);
                    break;
                default:
                    break;
            }
        }

        var failedReady = 0;
        await ForEachAsync(readyToCheck, cancellationToken, async (vm, ct) =>
        {
            await _inventory.UpdateFieldsAsync(vm.Name, new Dictionary<string, string> { [VmFields.Check] = VmTime.Format(now) }, cancellationToken: ct);
            var result = await CheckReadyAsync(provider, pool, vm.Name, ct);
            if (!result.IsReady
                && await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Ready, VmState.Completed, OpenSocketError(result), cancellationToken: ct))
            {
                ManagerLog.ReadyCheckFailed(_logger, pool.Name, vm.Name, result.Error ?? "not ready");
                await (_deadLetters?.RecordAsync(pool.Name, vm.Name, DeadLetterKind.Ready, result.Error ?? "not ready", 1, ct) ?? Task.CompletedTask); // DLQ
                Interlocked.Increment(ref failedReady);
                lock (toDestroy)
                {
                    toDestroy.Add(vm.Name);
                }
            }
        });
        ready -= failedReady;
        work += failedReady;

        // 4. Pending VMs whose clone has finished: ready check → ready; otherwise warn, and give up after the timeout.
        var becameReady = 0;
        var leftPending = 0;
        // A clone that was running when the snapshot was read may have finished since, after the provider was listed:
        // such a VM is left for the next pass rather than judged missing.
        var pendingToCheck = snapshot.Pending.Where(vm => !busyAtSnapshot.Contains(vm.Name) && !_busy.ContainsKey(vm.Name)).ToList();
        await ForEachAsync(pendingToCheck, cancellationToken, async (vm, ct) =>
        {
            var exists = inProvider.Contains(vm.Name);
            var result = exists
                ? await CheckReadyAsync(provider, pool, vm.Name, ct)
                : ReadyCheckResult.NotReady("not found in the provider");
            var checkedAt = _time.GetUtcNow();
            if (result.IsReady)
            {
                if (IsOnDemand(vm))
                {
                    await DeliverOnDemandAsync(provider, pool, vm, checkedAt, ct);
                }
                else if (await MarkReadyAsync(pool, vm, checkedAt, ct))
                {
                    Interlocked.Increment(ref becameReady);
                }

                return;
            }

            // Missing from the provider while no clone of it runs here (only the lease holder clones): its clone finished
            // and the VM vanished, or it was registered by a manager that died, or by a request that timed out and was
            // never cloned. It will never become ready, so it stops counting towards the pool at once (spec Q18).
            if (!exists)
            {
                if (await _inventory.ForgetAsync(pool.Name, vm.Name, VmState.Pending, _dataTtl, cancellationToken: ct))
                {
                    ManagerLog.PendingVanished(_logger, pool.Name, vm.Name);
                    if (!IsOnDemand(vm))
                    {
                        Interlocked.Increment(ref leftPending);
                    }
                    else
                    {
                        await RecordOnDemandFailureAsync(pool, vm.Name, vm.Get(VmFields.RequestId)!, "vanished", "not found in the provider", permanent: false, ct);
                    }
                }

                return;
            }

            switch (LifecycleRules.EvaluatePending(vm, timings, checkedAt))
            {
                case PendingVerdict.TimedOut when !exists:
                    if (await _inventory.ForgetAsync(pool.Name, vm.Name, VmState.Pending, _dataTtl, cancellationToken: ct))
                    {
                        ManagerLog.PendingVanished(_logger, pool.Name, vm.Name);
                        Interlocked.Increment(ref leftPending);
                    }

                    break;
                case PendingVerdict.TimedOut:
                    if (await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Pending, VmState.Completed, OpenSocketError(result), cancellationToken: ct))
                    {
                        ManagerLog.PendingTimedOut(_logger, pool.Name, vm.Name, timings.Timeout.TotalMinutes, result.Error ?? "not ready");
                        await (_deadLetters?.RecordAsync(pool.Name, vm.Name, DeadLetterKind.Pending, $"not ready within {timings.Timeout.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes: {result.Error ?? "not ready"}", 1, ct) ?? Task.CompletedTask); // DLQ
                        _metrics?.Error("markedasfailed", pool.Name);
                        if (!IsOnDemand(vm))
                        {
                            Interlocked.Increment(ref leftPending);
                        }
                        else
                        {
                            await RecordOnDemandFailureAsync(
                                pool, vm.Name, vm.Get(VmFields.RequestId)!, "timeout", $"not ready within {timings.Timeout.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes: {result.Error ?? "not ready"}", permanent: false, ct);
                        }

                        lock (toDestroy)
                        {
                            toDestroy.Add(vm.Name);
                        }
                    }

                    break;
                case PendingVerdict.Notify:
                    var notified = OpenSocketError(result) ?? [];
                    notified[VmFields.TimeoutNotification] = "1";
                    await _inventory.UpdateFieldsAsync(vm.Name, notified, cancellationToken: ct);
                    ManagerLog.PendingSlow(_logger, pool.Name, vm.Name, timings.TimeoutNotification.TotalMinutes, result.Error ?? "not ready");
                    break;
                default:
                    break;
            }
        });
        ready += becameReady;
        pending -= becameReady + leftPending;
        work += becameReady + leftPending;

        // 5. Completed VMs: destroy those the provider has; forget those it does not.
        foreach (var vm in snapshot.Completed)
        {
            if (_busy.ContainsKey(vm.Name))
            {
                continue;
            }

            if (inProvider.Contains(vm.Name))
            {
                toDestroy.Add(vm.Name);
            }
            else if (await _inventory.ForgetAsync(pool.Name, vm.Name, VmState.Completed, _dataTtl, Destroyed(now), cancellationToken))
            {
                work++;
            }
        }

        // 6. More ready than the pool's size (a smaller size, or a restart): recycle the newest extras.
        var excess = LifecycleRules.ExcessReady(pool.Size, ready);
        if (excess > 0)
        {
            var current = await _inventory.GetPoolAsync(pool.Name, cancellationToken);
            foreach (var vm in current.Ready.Reverse().Take(excess))
            {
                if (await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Ready, VmState.Completed, cancellationToken: cancellationToken))
                {
                    ManagerLog.Excess(_logger, pool.Name, vm.Name);
                    toDestroy.Add(vm.Name);
                    ready--;
                    work++;
                }
            }
        }

        foreach (var name in toDestroy.Distinct(StringComparer.Ordinal))
        {
            StartDestroy(provider, pool, name);
        }

        // 7. Refill: clone size − (ready + pending), within task_limit, unless this pool's clones are backing off.
        if (pool.Size > 0)
        {
            var empty = ready == 0;
            // Log once when the pool becomes empty, not on every pass while it stays so.
            var wasEmpty = _emptyFlags.TryGetValue(pool.Name, out var flag) && flag;
            if (empty && !wasEmpty)
            {
                ManagerLog.PoolEmpty(_logger, pool.Name);
            }

            _emptyFlags[pool.Name] = empty;
        }

        var started = await StartClonesAsync(provider, pool, LifecycleRules.ClonesNeeded(pool.Size, ready, pending), cancellationToken);
        work += started;
        pending += started;
        _metrics?.SetPoolCounts(pool.Name, pool.Size, new PoolCounts(pending, ready, snapshot.Running.Count, snapshot.Completed.Count));
        return new PassResult(work > 0, pending > 0 || snapshot.Pending.Any(IsOnDemand), null);
    }

    /// <summary>Whether a pool's clones are held back after failures, and until when.</summary>
    public DateTimeOffset? CloneBackoffUntil(string pool)
        => _backoff.TryGetValue(pool, out var backoff) && backoff.NotBefore > _time.GetUtcNow() ? backoff.NotBefore : null;

    private async Task<int> StartClonesAsync(IVmProvider provider, PoolOptions pool, int needed, CancellationToken cancellationToken)
    {
        if (needed <= 0 || CloneBackoffUntil(pool.Name) is not null)
        {
            return 0;
        }

        var timings = LifecycleRules.TimingsFor(pool, _options.Config);
        var started = 0;
        while (started < needed && _cloneSlots.Wait(0, CancellationToken.None))
        {
            string? name;
            try
            {
                name = await ReserveNameAsync(pool, cancellationToken);
            }
            catch
            {
                _cloneSlots.Release();
                throw;
            }

            if (name is null)
            {
                _cloneSlots.Release();
                ManagerLog.CloneNameExhausted(_logger, pool.Name);
                break;
            }

            _busy[name] = 0;
            Track(CloneAsync(provider, pool, name, timings, _cloneSlots));
            started++;
        }

        return started;
    }

    /// <summary>Picks an unused name and registers the VM as pending under it; null when no free name was found.</summary>
    private async Task<string?> ReserveNameAsync(PoolOptions pool, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? extra = null)
    {
        var now = _time.GetUtcNow();
        var fields = new Dictionary<string, string>
        {
            [VmFields.Clone] = VmTime.Format(now),
            [VmFields.Template] = pool.Name,
            [VmFields.Pool] = pool.Name,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            fields[key] = value;
        }

        if (_options.DomainOf(pool) is { } domain)
        {
            fields[VmFields.Domain] = domain;
        }

        for (var attempt = 0; attempt < MaxNameAttempts; attempt++)
        {
            var name = _names.Next(_options.Config.Prefix);
            if (attempt > 0)
            {
                // The word lists hold ~13 000 pairs and names stay taken while their metadata is kept: after a
                // collision, add a short random suffix rather than trying more pairs.
                name += "-" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..4];
            }

            if (await _inventory.AddPendingAsync(pool.Name, name, fields, cancellationToken))
            {
                return name;
            }
        }

        return null;
    }

    private async Task CloneAsync(IVmProvider provider, PoolOptions pool, string name, PoolTimings timings, SemaphoreSlim slots, string? requestId = null)
    {
        var token = _stopping.Token;
        var started = _time.GetTimestamp();
        using var activity = VmPoolerMetrics.ActivitySource.StartActivity("clone");
        activity?.SetTag("vmpooler.pool", pool.Name).SetTag("vmpooler.vm", name);
        try
        {
            var created = await CallAsync(c => provider.CreateVmAsync(pool, name, c), timings.Timeout, token);
            var ip = await CallAsync(c => provider.GetVmIpAddressAsync(pool, name, c), _providerTimeout, token)
                ?? throw new InvalidOperationException("failed to obtain an IP address after the clone");
            var seconds = Math.Round(_time.GetElapsedTime(started).TotalSeconds, 2);
            var now = _time.GetUtcNow();
            var cloned = new Dictionary<string, string>
            {
                [VmFields.CloneTime] = seconds.ToString(CultureInfo.InvariantCulture),
                [VmFields.Ip] = ip,
            };
            if (created.SshPort is { } sshPort)
            {
                cloned[VmFields.SshPort] = sshPort.ToString(CultureInfo.InvariantCulture);
            }

            await _inventory.UpdateFieldsAsync(name, cloned, cancellationToken: token);
            await _inventory.RecordDurationAsync(DurationKind.Clone, pool.Name, name, seconds, now, token);
            ManagerLog.Cloned(_logger, pool.Name, name, seconds);
            _metrics?.CloneDuration(pool.Name, seconds);
            _backoff.TryRemove(pool.Name, out _);
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            ManagerLog.CloneFailed(_logger, pool.Name, name, ex.Message);
            _metrics?.Error("clonefailed", pool.Name);
            await (_deadLetters?.RecordAsync(pool.Name, name, DeadLetterKind.Clone, ex.Message, (_backoff.TryGetValue(pool.Name, out var prior) ? prior.Failures : 0) + 1, token) ?? Task.CompletedTask); // DLQ
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            var fields = new Dictionary<string, string>
            {
                [VmFields.CloneError] = ex.Message,
                [VmFields.CloneErrorClass] = ex.GetType().Name,
            };
            try
            {
                // Whatever the provider left behind is found by the next pass and destroyed.
                await _inventory.ForgetAsync(pool.Name, name, VmState.Pending, _dataTtl, fields, token);
            }
            catch (Exception inner) when (!token.IsCancellationRequested)
            {
                ManagerLog.CloneFailed(_logger, pool.Name, name, inner.Message);
            }

            if (requestId is not null)
            {
                await RecordOnDemandFailureAsync(pool, name, requestId, "clone", ex.Message, PermanentErrors.IsPermanent(ex), token);
            }

            var backoff = _backoff.AddOrUpdate(
                pool.Name,
                _ => CloneBackoff.First(_time.GetUtcNow(), timings),
                (_, previous) => previous.Next(_time.GetUtcNow(), timings));
            if (backoff.Failures > 1)
            {
                ManagerLog.CloneBackoff(_logger, pool.Name, backoff.Failures, backoff.NotBefore - _time.GetUtcNow());
            }
        }
        finally
        {
            _busy.TryRemove(name, out _);
            slots.Release();
            PoolNeedsPass?.Invoke(pool.Name);
        }
    }

    /// <summary>Counts a failed VM against its on-demand request (<see cref="ManagerJobs"/> retries or fails the request).</summary>
    private async Task RecordOnDemandFailureAsync(PoolOptions pool, string vm, string requestId, string kind, string error, bool permanent, CancellationToken cancellationToken)
    {
        if (_onDemand is null)
        {
            return;
        }

        ManagerLog.OnDemandVmFailed(_logger, pool.Name, vm, requestId, permanent ? kind + ", permanent" : kind, error);
        try
        {
            await _onDemand.RecordFailureAsync(requestId, $"{vm}: {error}", permanent, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not counted: the request is retried once more than it should be, or ends at its TTL.
            ManagerLog.OnDemandFailureNotCounted(_logger, pool.Name, vm, requestId, ex.Message);
        }
    }

    /// <summary>True for a VM cloned for an on-demand request.</summary>
    public static bool IsOnDemand(VmRecord vm) => vm.Get(VmFields.RequestId) is { Length: > 0 };

    /// <summary>
    /// Starts up to <paramref name="count"/> clones of <paramref name="pool"/> for an on-demand request, within
    /// <c>ondemand_clone_limit</c>. Returns how many started.
    /// </summary>
    public async Task<int> StartOnDemandClonesAsync(PoolOptions pool, string requestId, string requestedName, int count, CancellationToken cancellationToken)
    {
        if (count <= 0 || !_providers.TryGetValue(pool.Provider, out var provider) || CloneBackoffUntil(pool.Name) is not null)
        {
            return 0;
        }

        var timings = LifecycleRules.TimingsFor(pool, _options.Config);
        var extra = new Dictionary<string, string> { [VmFields.RequestId] = requestId, [VmFields.RequestName] = requestedName };
        var started = 0;
        while (started < count && _onDemandSlots.Wait(0, CancellationToken.None))
        {
            string? name;
            try
            {
                name = await ReserveNameAsync(pool, cancellationToken, extra);
            }
            catch
            {
                _onDemandSlots.Release();
                throw;
            }

            if (name is null)
            {
                _onDemandSlots.Release();
                break;
            }

            _busy[name] = 0;
            Track(CloneAsync(provider, pool, name, timings, _onDemandSlots, requestId));
            started++;
        }

        return started;
    }

    /// <summary>Moves a pool's ready and pending VMs (not those cloning right now) to completed, so they are destroyed and replaced.</summary>
    public async Task<int> DrainAsync(PoolOptions pool, CancellationToken cancellationToken)
    {
        var snapshot = await _inventory.GetPoolAsync(pool.Name, cancellationToken);
        var drained = 0;
        foreach (var (vm, state) in snapshot.Ready.Select(v => (v, VmState.Ready)).Concat(snapshot.Pending.Select(v => (v, VmState.Pending))))
        {
            if (!_busy.ContainsKey(vm.Name) && !IsOnDemand(vm)
                && await _inventory.MoveAsync(pool.Name, vm.Name, state, VmState.Completed, cancellationToken: cancellationToken))
            {
                drained++;
            }
        }

        ManagerLog.PoolDrained(_logger, pool.Name, drained);
        return drained;
    }

    /// <summary>The pool with its run-time overrides; a changed template drains the pool once (spec §4.8).</summary>
    private async Task<(PoolOptions Pool, int Drained)> ApplyOverridesAsync(PoolOptions configured, CancellationToken cancellationToken)
    {
        var overrides = await _overrides!.GetAsync(cancellationToken);
        var pool = overrides.Apply(configured);
        var prepared = overrides.Get(PoolOverrideKind.Prepared, pool.Name);
        if (prepared == pool.Template)
        {
            return (pool, 0);
        }

        var drained = 0;
        if (prepared is not null)
        {
            ManagerLog.TemplateChanged(_logger, pool.Name, prepared, pool.Template);
            drained = await DrainAsync(pool, cancellationToken);
        }

        await _overrides.SetAsync(PoolOverrideKind.Prepared, pool.Name, pool.Template, cancellationToken);
        return (pool, drained);
    }

    /// <summary>
    /// A VM cloned for an on-demand request passed its ready check: check it out to the request (pending → running with
    /// the request's owner), then record the delivery. When the request is no longer pending (deleted, failed, complete),
    /// the VM is returned instead, so it is destroyed rather than stranded.
    /// </summary>
    private async Task DeliverOnDemandAsync(IVmProvider provider, PoolOptions pool, VmRecord vm, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = vm.Get(VmFields.RequestId)!;
        var request = _onDemand is null ? null : await _onDemand.GetAsync(id, cancellationToken);
        var fields = new Dictionary<string, string>
        {
            [VmFields.Ready] = VmTime.Format(now),
            [VmFields.Check] = VmTime.Format(now),
            [VmFields.Checkout] = VmTime.Format(now),
        };
        if (request?.TokenHash is { } token)
        {
            fields[VmFields.Token] = token;
            fields[VmFields.TokenUser] = request.User ?? "";
            if (_options.Config.VmLifetimeAuthHours is > 0 and var hours)
            {
                fields[VmFields.Lifetime] = hours.ToString(CultureInfo.InvariantCulture);
            }
        }

        var entry = new OnDemandEntry(vm.Get(VmFields.RequestName) ?? pool.Name, pool.Name, 0);
        var wanted = request?.Entries.FirstOrDefault(e => e.Key == entry.Key)?.Count ?? 0;
        var deliverable = request is { Status: OnDemandStatus.Pending } && request.DeliveredCount(entry) < wanted;
        if (!deliverable)
        {
            if (await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Pending, VmState.Completed, cancellationToken: cancellationToken))
            {
                StartDestroy(provider, pool, vm.Name);
            }

            return;
        }

        if (!await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Pending, VmState.Running, fields, cancellationToken: cancellationToken))
        {
            return;
        }

        await RecordBootAsync(pool, vm, now, cancellationToken);
        if (await _onDemand!.DeliverAsync(id, entry, vm.Name, cancellationToken))
        {
            ManagerLog.OnDemandDelivered(_logger, pool.Name, vm.Name, id);
        }
        else if ((await _inventory.ReturnAsync(vm.Name, cancellationToken)).Status == ReturnStatus.Returned)
        {
            // Deleted or failed between the read and the delivery: give the VM back.
            StartDestroy(provider, pool, vm.Name);
        }
    }

    private async Task<bool> MarkReadyAsync(PoolOptions pool, VmRecord vm, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var stamp = VmTime.Format(now);
        var fields = new Dictionary<string, string>
        {
            [VmFields.Ready] = stamp,
            // The ready check just passed: this is the VM's first health check (so GET /vm says "ready", spec Q3).
            [VmFields.Check] = stamp,
        };
        if (!await _inventory.MoveAsync(pool.Name, vm.Name, VmState.Pending, VmState.Ready, fields, cancellationToken: cancellationToken))
        {
            return false;
        }

        var seconds = await RecordBootAsync(pool, vm, now, cancellationToken);
        ManagerLog.Ready(_logger, pool.Name, vm.Name, seconds);
        _metrics?.TimeToReady(pool.Name, seconds);
        return true;
    }

    /// <summary>Records how long a VM took from the start of its clone to passing its ready check; returns the seconds.</summary>
    private async Task<double> RecordBootAsync(PoolOptions pool, VmRecord vm, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var seconds = Math.Round((now - (vm.GetTime(VmFields.Clone) ?? now)).TotalSeconds, 2);
        await _inventory.RecordDurationAsync(DurationKind.Boot, pool.Name, vm.Name, seconds, now, cancellationToken);
        return seconds;
    }

    private void StartDestroy(IVmProvider provider, PoolOptions pool, string name)
    {
        if (!_busy.TryAdd(name, 0))
        {
            return;
        }

        Track(DestroyAsync(provider, pool, name));
    }

    private async Task DestroyAsync(IVmProvider provider, PoolOptions pool, string name)
    {
        var token = _stopping.Token;
        try
        {
            await _destroySlots.WaitAsync(token);
            try
            {
                var started = _time.GetTimestamp();
                using var activity = VmPoolerMetrics.ActivitySource.StartActivity("destroy");
                activity?.SetTag("vmpooler.pool", pool.Name).SetTag("vmpooler.vm", name);
                var gone = await CallAsync(c => provider.DestroyVmAsync(pool, name, c), _providerTimeout, token);
                if (!gone)
                {
                    ManagerLog.DestroyFailed(_logger, pool.Name, name, "the provider could not destroy it");
                    _metrics?.Error("destroyfailed", pool.Name);
                    return;
                }

                if (await _inventory.ForgetAsync(pool.Name, name, VmState.Completed, _dataTtl, Destroyed(_time.GetUtcNow()), token))
                {
                    var seconds = _time.GetElapsedTime(started).TotalSeconds;
                    ManagerLog.Destroyed(_logger, pool.Name, name, seconds);
                    _metrics?.DestroyDuration(pool.Name, seconds);
                }
            }
            finally
            {
                _destroySlots.Release();
            }
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            ManagerLog.DestroyFailed(_logger, pool.Name, name, ex.Message);
            _metrics?.Error("destroyfailed", pool.Name);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the VM stays completed and is destroyed after the restart.
        }
        finally
        {
            _busy.TryRemove(name, out _);
        }
    }

    private async Task<ReadyCheckResult> CheckReadyAsync(IVmProvider provider, PoolOptions pool, string name, CancellationToken cancellationToken)
    {
        using var activity = VmPoolerMetrics.ActivitySource.StartActivity("ready_check");
        activity?.SetTag("vmpooler.pool", pool.Name).SetTag("vmpooler.vm", name);
        try
        {
            var result = await CallAsync(c => provider.CheckVmReadyAsync(pool, name, c), _providerTimeout, cancellationToken);
            activity?.SetTag("vmpooler.ready", result.IsReady);
            return result;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            return ReadyCheckResult.NotReady(ex.Message);
        }
    }

    /// <summary>A provider call with a time limit: its token is cancelled and a <see cref="TimeoutException"/> thrown when it runs over.</summary>
    internal async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            return await call(linked.Token).WaitAsync(timeout, _time, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            // Whichever fires first — the call's own cancellation or the WaitAsync limit — it is the same time-out.
            throw new TimeoutException($"the provider did not answer within {timeout.TotalSeconds:0.#} seconds", ex);
        }
    }

    private static Task ForEachAsync<T>(IReadOnlyList<T> items, CancellationToken cancellationToken, Func<T, CancellationToken, ValueTask> body)
        => items.Count == 0
            ? Task.CompletedTask
            : Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = CheckParallelism, CancellationToken = cancellationToken }, body);

    private static Dictionary<string, string>? OpenSocketError(ReadyCheckResult result)
        => result.Error is { } error ? new Dictionary<string, string> { [VmFields.OpenSocketError] = error } : null;

    private static Dictionary<string, string> Destroyed(DateTimeOffset now) => new() { [VmFields.Destroy] = VmTime.Format(now) };

    private void Track(Task task)
    {
        _background[task] = 0;
        _ = task.ContinueWith(t => _background.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await WhenIdleAsync();
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
        _cloneSlots.Dispose();
        _destroySlots.Dispose();
    }

    /// <summary>Clone back-off of one pool: consecutive failures and the earliest time of the next clone.</summary>
    private sealed record CloneBackoff(int Failures, DateTimeOffset NotBefore)
    {
        public static CloneBackoff First(DateTimeOffset now, PoolTimings timings) => new(1, now + Delay(1, timings));

        public CloneBackoff Next(DateTimeOffset now, PoolTimings timings) => new(Failures + 1, now + Delay(Failures + 1, timings));

        /// <summary>The first failure waits nothing extra (one failure in many is normal); then min × 2^(n−2), up to max.</summary>
        private static TimeSpan Delay(int failures, PoolTimings timings)
        {
            if (failures <= 1)
            {
                return TimeSpan.Zero;
            }

            var factor = Math.Pow(2, Math.Min(failures - 2, 20));
            var delay = TimeSpan.FromTicks((long)Math.Min(timings.LoopDelayMin.Ticks * factor, timings.LoopDelayMax.Ticks));
            return delay;
        }
    }
}

/// <summary>The outcome of one pass: whether it changed anything, whether VMs are still pending, or why it failed.</summary>
public sealed record PassResult(bool DidWork, bool HasPending, string? ProviderError)
{
    public static PassResult ProviderFailed(string error) => new(false, false, error);
}
