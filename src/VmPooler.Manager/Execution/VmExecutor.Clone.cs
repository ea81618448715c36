using System.Globalization;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Core.Metrics;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Operations;

namespace VmPooler.Manager.Execution;

internal sealed partial class VmExecutor
{
    /// <summary>
    /// Starts up to <paramref name="count"/> clones of <paramref name="pool"/> for an on-demand request, within
    /// <c>ondemand_clone_limit</c>. Returns how many started.
    /// </summary>
    public async Task<int> StartOnDemandClonesAsync(PoolOptions pool, string requestId, string requestedName, int count, CancellationToken cancellationToken)
    {
        if (count <= 0 || !_providers.ContainsKey(pool.Provider) || _backoffs.Until(pool.Name) is not null)
        {
            return 0;
        }

        var slots = 0;
        while (slots < count && _onDemandSlots.Wait(0, CancellationToken.None))
        {
            slots++;
        }

        var extra = new Dictionary<string, string> { [VmFields.RequestId] = requestId, [VmFields.RequestName] = requestedName };
        var registered = _time.GetUtcNow();
        var names = slots == 0 ? [] : await ReserveNamesAsync(pool, slots, extra, registered, cancellationToken);
        if (slots > names.Count)
        {
            _onDemandSlots.Release(slots - names.Count);
        }

        foreach (var name in names)
        {
            Track(pool.Name, CloneAsync(pool, name, registered, () => _onDemandSlots.Release(), requestId));
        }

        return names.Count;
    }

    /// <summary>Starts the clone batches the dispatcher handed out; returns how many clones they hold.</summary>
    private int Start(List<(PoolOptions Pool, int Count)> batches)
    {
        if (_stopping.IsCancellationRequested)
        {
            return 0;
        }

        foreach (var (pool, count) in batches)
        {
            Track(pool.Name, CloneBatchAsync(pool, count));
        }

        return batches.Sum(b => b.Count);
    }

    /// <summary>Reserves names for a batch of clones in one round of inventory calls, then runs the clones.</summary>
    private async Task CloneBatchAsync(PoolOptions pool, int count)
    {
        var registered = _time.GetUtcNow();
        var names = await ReserveNamesAsync(pool, count, extra: null, registered, PoolToken(pool.Name), _dispatcher);
        if (names.Count < count)
        {
            // No name could be registered (taken, or the inventory failed): the pool asks again at its next trigger
            // rather than retrying at once in a loop.
            _dispatcher.Drop(pool.Name);
            for (var unused = names.Count; unused < count; unused++)
            {
                Start(_dispatcher.Release());
            }
        }

        foreach (var name in names)
        {
            Track(pool.Name, CloneAsync(pool, name, registered, () => Start(_dispatcher.Release()), requestId: null));
        }
    }

    /// <summary>
    /// Picks <paramref name="count"/> unused names and registers each VM as pending under it, all calls at once (one
    /// round trip on a pipelined connection). A name already taken is retried with a short random suffix.
    /// </summary>
    private async Task<IReadOnlyList<string>> ReserveNamesAsync(
        PoolOptions pool,
        int count,
        IReadOnlyDictionary<string, string>? extra,
        DateTimeOffset registered,
        CancellationToken cancellationToken,
        CloneDispatcher? dispatcher = null)
    {
        var fields = PendingFields(pool, extra, registered);
        var reserved = await Task.WhenAll(Enumerable.Range(0, count).Select(async index =>
        {
            for (var attempt = 0; attempt < MaxNameAttempts; attempt++)
            {
                var name = _names.Next(_options.Config.Prefix);
                if (attempt > 0)
                {
                    // The word lists hold ~13 000 pairs and names stay taken while their metadata is kept.
                    name += "-" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..4];
                }

                _busy[name] = 0;
                bool added;
                try
                {
                    added = await _inventory.AddPendingAsync(pool.Name, name, fields, cancellationToken);
                }
                catch (Exception ex)
                {
                    _busy.TryRemove(name, out _);
                    dispatcher?.Reserved(pool.Name, registered: false);
                    ManagerLog.CloneFailed(_logger, pool.Name, name, ex.Message);
                    return null;
                }

                if (added)
                {
                    dispatcher?.Reserved(pool.Name, registered: true);
                    return name;
                }

                _busy.TryRemove(name, out _);
            }

            dispatcher?.Reserved(pool.Name, registered: false);
            ManagerLog.CloneNameExhausted(_logger, pool.Name);
            return null;
        }));
        return [.. reserved.OfType<string>()];
    }

    private Dictionary<string, string> PendingFields(PoolOptions pool, IReadOnlyDictionary<string, string>? extra, DateTimeOffset registered)
    {
        var fields = new Dictionary<string, string>
        {
            [VmFields.Clone] = VmTime.Format(registered),
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

        return fields;
    }

    /// <summary>
    /// One clone: create, read its address, then its first ready check. When the check passes, the clone's fields and the
    /// move to ready are one inventory call, so a replacement costs no reads of the VM back.
    /// </summary>
    private async Task CloneAsync(PoolOptions pool, string name, DateTimeOffset registered, Action releaseSlot, string? requestId)
    {
        var token = requestId is null ? PoolToken(pool.Name) : _stopping.Token;
        var timings = LifecycleRules.TimingsFor(pool, _options.Config);
        try
        {
            var clone = await CreateAsync(pool, name, timings, token);
            _backoffs.Succeeded(pool.Name);
            await FirstReadyCheckAsync(pool, name, registered, clone, requestId, token);
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            await CloneFailedAsync(pool, name, timings, requestId, ex, token);
        }
        catch (OperationCanceledException)
        {
            // Stopping, or the pool went to another manager: the VM stays pending and its new owner deals with it.
        }
        finally
        {
            _busy.TryRemove(name, out _);
            releaseSlot();
        }
    }

    /// <summary>Creates the VM and reads its address; returns what to record on it (nothing is written yet).</summary>
    private async Task<FinishedClone> CreateAsync(PoolOptions pool, string name, PoolTimings timings, CancellationToken token)
    {
        var started = _time.GetTimestamp();
        using var activity = VmPoolerMetrics.ActivitySource.StartActivity("clone");
        activity?.SetTag("vmpooler.pool", pool.Name).SetTag("vmpooler.vm", name);
        var provider = ProviderOf(pool);
        try
        {
            var created = await CallAsync(c => provider.CreateVmAsync(pool, name, c), timings.Timeout, token);
            var ip = await CallAsync(c => provider.GetVmIpAddressAsync(pool, name, c), _providerTimeout, token)
                ?? throw new InvalidOperationException("failed to obtain an IP address after the clone");
            var seconds = Math.Round(_time.GetElapsedTime(started).TotalSeconds, 2);
            var fields = new Dictionary<string, string>
            {
                [VmFields.CloneTime] = seconds.ToString(CultureInfo.InvariantCulture),
                [VmFields.Ip] = ip,
            };
            if (created.SshPort is { } sshPort)
            {
                fields[VmFields.SshPort] = sshPort.ToString(CultureInfo.InvariantCulture);
            }

            if (created.HostKeyFingerprint is { } fingerprint)
            {
                fields[VmFields.HostKeyFingerprint] = fingerprint;
            }

            ManagerLog.Cloned(_logger, pool.Name, name, seconds);
            _metrics?.CloneDuration(pool.Name, seconds);
            return new FinishedClone(fields, seconds);
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    /// <summary>
    /// The clone's own first ready check. Passed: the pool's VM moves to ready with its clone's fields in one call (an
    /// on-demand VM is recorded, then delivered). Not passed: the fields are recorded and a pass takes it from there.
    /// </summary>
    private async Task FirstReadyCheckAsync(PoolOptions pool, string name, DateTimeOffset registered, FinishedClone clone, string? requestId, CancellationToken token)
    {
        var check = await CheckReadyAsync(pool, name, token);
        if (check.IsReady && requestId is null)
        {
            // The clone's duration is recorded with its boot, in one call.
            if (!await MoveToReadyAsync(pool, name, registered, clone.Fields, _time.GetUtcNow(), token, clone.Seconds))
            {
                // No longer pending (drained or reset meanwhile): a pass looks at it.
                await _inventory.RecordDurationAsync(DurationKind.Clone, pool.Name, name, clone.Seconds, _time.GetUtcNow(), token);
                Signal(pool.Name, fullPass: true);
            }

            return;
        }

        var recorded = _inventory.RecordDurationAsync(DurationKind.Clone, pool.Name, name, clone.Seconds, _time.GetUtcNow(), token);
        await _inventory.UpdateFieldsAsync(name, clone.Fields, cancellationToken: token);
        await recorded;
        var vm = check.IsReady ? await _inventory.GetVmAsync(name, token) : null;
        if (vm is { State: VmState.Pending })
        {
            await DeliverAsync(pool, vm, _time.GetUtcNow(), token);
        }
        else
        {
            Signal(pool.Name, fullPass: true);
        }
    }

    private async Task CloneFailedAsync(PoolOptions pool, string name, PoolTimings timings, string? requestId, Exception ex, CancellationToken token)
    {
        ManagerLog.CloneFailed(_logger, pool.Name, name, ex.Message);
        _metrics?.Error("clonefailed", pool.Name);

        // Counted and dead-lettered while the VM still holds its pending place: no clone of the pool starts (and fails)
        // in between, so the failures are numbered and listed in the order they happened.
        var (failures, wait) = _backoffs.Failed(pool.Name, timings);
        await (_deadLetters?.RecordAsync(pool.Name, name, DeadLetterKind.Clone, ex.Message, failures, token) ?? Task.CompletedTask);
        if (failures > 1)
        {
            ManagerLog.CloneBackoff(_logger, pool.Name, failures, wait);
        }

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
            await _onDemand.RecordFailureAsync(pool.Name, name, requestId, "clone", ex.Message, PermanentErrors.IsPermanent(ex), token);
        }

        Signal(pool.Name, fullPass: true);
    }
}
