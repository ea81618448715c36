using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Core.Metrics;
using VmPooler.Core.Naming;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Operations;
using VmPooler.Core.Providers;
using VmPooler.Manager.OnDemand;

namespace VmPooler.Manager.Execution;

/// <summary>
/// Carries out the manager's provider work (DESIGN.md "Pool manager", executor): clones, destroys and ready checks,
/// bounded by <c>task_limit</c> slots handed out fairly across pools, one back-off policy for failing clones, a time
/// limit and cancellation on every provider call. A finished clone runs its first ready check itself, so a replacement
/// is ready without waiting for a pass. What needs the pool's attention afterwards is announced on
/// <see cref="Signals"/> instead of through a callback.
/// </summary>
internal sealed partial class VmExecutor : IAsyncDisposable
{
    private const int MaxNameAttempts = 6;

    private readonly VmPoolerOptions _options;
    private readonly IInventory _inventory;
    private readonly IReadOnlyDictionary<string, IVmProvider> _providers;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly VmNameGenerator _names;
    private readonly VmPoolerMetrics? _metrics;
    private readonly OnDemandDelivery _onDemand;
    private readonly CloneBackoffs _backoffs;
    private readonly DeadLetterRecorder? _deadLetters;
    private readonly CloneDispatcher _dispatcher;
    private readonly SemaphoreSlim _destroySlots;
    private readonly SemaphoreSlim _onDemandSlots;
    private readonly ConcurrentDictionary<string, byte> _busy = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, string> _background = new();
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _poolWork = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _stopped = new(StringComparer.Ordinal);
    private readonly Channel<PoolSignal> _signals = Channel.CreateUnbounded<PoolSignal>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TimeSpan _dataTtl;
    private readonly TimeSpan _providerTimeout;

    public VmExecutor(
        VmPoolerOptions options,
        IInventory inventory,
        IEnumerable<IVmProvider> providers,
        TimeProvider time,
        ILogger logger,
        VmNameGenerator? names = null,
        IOnDemandStore? onDemand = null,
        VmPoolerMetrics? metrics = null,
        DeadLetterRecorder? deadLetters = null)
    {
        _deadLetters = deadLetters;
        _options = options;
        _inventory = inventory;
        _providers = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);
        _time = time;
        _logger = logger;
        _names = names ?? new VmNameGenerator();
        _metrics = metrics;
        _onDemand = new OnDemandDelivery(options, inventory, onDemand, logger);
        _backoffs = new CloneBackoffs(time);
        _dispatcher = new CloneDispatcher(options.Config.TaskLimit, pool => _backoffs.Until(pool) is not null);
        _destroySlots = new SemaphoreSlim(options.Config.TaskLimit, options.Config.TaskLimit);
        _onDemandSlots = new SemaphoreSlim(options.Config.OnDemandCloneLimit, options.Config.OnDemandCloneLimit);
        _dataTtl = options.Redis?.DataTtl ?? GlobalOptions.DefaultDataTtl;
        _providerTimeout = options.Config.ProviderTimeout;
    }

    /// <summary>Pools that need attention after background work: a top-up (a clone ended) or a full pass (a check failed).</summary>
    public ChannelReader<PoolSignal> Signals => _signals.Reader;

    /// <summary>How long the metadata of a forgotten VM is kept (<c>data_ttl</c>).</summary>
    public TimeSpan DataTtl => _dataTtl;

    /// <summary>The on-demand delivery (a pass delivers on-demand VMs that became ready meanwhile).</summary>
    public OnDemandDelivery OnDemand => _onDemand;

    /// <summary>Clones running now, across all pools (on-demand clones not included).</summary>
    public int ClonesInFlight => _dispatcher.InUse;

    /// <summary>The VMs being cloned or destroyed by this manager right now.</summary>
    public HashSet<string> BusyNames() => _busy.Keys.ToHashSet(StringComparer.Ordinal);

    public bool IsBusy(string vm) => _busy.ContainsKey(vm);

    /// <summary>Whether a pool's clones are held back after failures, and until when.</summary>
    public DateTimeOffset? CloneBackoffUntil(string pool) => _backoffs.Until(pool);

    public IVmProvider ProviderOf(PoolOptions pool) => _providers[pool.Provider];

    /// <summary>A mark to take before reading a pool's counts (see <see cref="RequestClones"/>).</summary>
    public long CloneMark(string pool) => _dispatcher.Mark(pool);

    /// <summary>
    /// Asks for the clones <paramref name="pool"/> lacks by counts read after <paramref name="mark"/>: they start as slots
    /// allow, fairly with other pools. Returns how many started now.
    /// </summary>
    public int RequestClones(PoolOptions pool, int lacking, long mark)
    {
        if (_stopped.ContainsKey(pool.Name) || _backoffs.Until(pool.Name) is not null)
        {
            _dispatcher.Drop(pool.Name);
            return 0;
        }

        return Start(_dispatcher.Want(pool, lacking, mark));
    }

    /// <summary>Cancels this manager's clones of a pool it no longer owns and forgets what the pool wanted.</summary>
    public void StopPool(string pool)
    {
        // A pass over the pool that is still running must not start clones after this.
        _stopped[pool] = 0;
        _dispatcher.Drop(pool);
        if (_poolWork.TryRemove(pool, out var work))
        {
            work.Cancel();
            work.Dispose();
        }
    }

    /// <summary>This manager owns the pool (again): it may clone for it.</summary>
    public void ResumePool(string pool) => _stopped.TryRemove(pool, out _);

    /// <summary>Completes when every background clone and destroy started so far has finished (for tests and shutdown).</summary>
    public async Task WhenIdleAsync()
    {
        // A clone batch starts its clones once their names are registered: wait for those too.
        while (_background.Keys.Where(t => !t.IsCompleted).ToArray() is { Length: > 0 } running)
        {
            await Task.WhenAll(running);
        }
    }

    /// <summary>
    /// Completes when this manager's clones and destroys of <paramref name="pool"/> have ended (after
    /// <see cref="StopPool"/> they end at their next cancellation point), so a pool is handed to another manager only
    /// once nothing here still acts on it.
    /// </summary>
    public async Task WhenPoolIdleAsync(string pool)
    {
        while (_background.Where(e => e.Value == pool && !e.Key.IsCompleted).Select(e => e.Key).ToArray() is { Length: > 0 } running)
        {
            await Task.WhenAll(running);
        }
    }

    /// <summary>A ready check with its span; a check that throws is "not ready" with the error as the reason.</summary>
    public async Task<ReadyCheckResult> CheckReadyAsync(PoolOptions pool, string name, CancellationToken cancellationToken)
    {
        using var activity = VmPoolerMetrics.ActivitySource.StartActivity("ready_check");
        activity?.SetTag("vmpooler.pool", pool.Name).SetTag("vmpooler.vm", name);
        try
        {
            var result = await CallAsync(c => ProviderOf(pool).CheckVmReadyAsync(pool, name, c), _providerTimeout, cancellationToken);
            activity?.SetTag("vmpooler.ready", result.IsReady);
            return result;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            return ReadyCheckResult.NotReady(ex.Message);
        }
    }

    /// <summary>A provider call with the manager's provider time limit.</summary>
    public Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
        => CallAsync(call, _providerTimeout, cancellationToken);

    private Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, TimeSpan timeout, CancellationToken cancellationToken)
        => ProviderCall.WithTimeoutAsync(_time, call, timeout, cancellationToken);

    /// <summary>
    /// Moves a pending VM that passed its ready check (in a pass) to ready, with its boot time recorded. A VM whose clone
    /// ended with its manager before the address was recorded gets it now.
    /// </summary>
    public async Task<bool> MarkReadyAsync(PoolOptions pool, VmRecord vm, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string>();
        if (vm.View.Ip is null)
        {
            try
            {
                if (await CallAsync(c => ProviderOf(pool).GetVmIpAddressAsync(pool, vm.Name, c), cancellationToken) is { } ip)
                {
                    fields[VmFields.Ip] = ip;
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                ManagerLog.AddressUnknown(_logger, pool.Name, vm.Name, ex.Message);
            }
        }

        return await MoveToReadyAsync(pool, vm.Name, vm.View.Cloned, fields, now, cancellationToken);
    }

    /// <summary>
    /// Pending → ready with <paramref name="fields"/> and the ready stamps in one call; then the boot time (with the
    /// clone's duration when <paramref name="cloneSeconds"/> is given).
    /// </summary>
    private async Task<bool> MoveToReadyAsync(
        PoolOptions pool,
        string name,
        DateTimeOffset? cloned,
        Dictionary<string, string> fields,
        DateTimeOffset now,
        CancellationToken cancellationToken,
        double? cloneSeconds = null)
    {
        var stamp = VmTime.Format(now);
        // The ready check just passed: this is the VM's first health check (so GET /vm says "ready", spec Q3).
        fields[VmFields.Ready] = stamp;
        fields[VmFields.Check] = stamp;
        if (!await _inventory.MoveAsync(pool.Name, name, VmState.Pending, VmState.Ready, fields, cancellationToken: cancellationToken))
        {
            return false;
        }

        var seconds = await VmStatistics.RecordBootAsync(_inventory, pool, name, cloned, now, cloneSeconds, cancellationToken);
        ManagerLog.Ready(_logger, pool.Name, name, seconds);
        _metrics?.TimeToReady(pool.Name, seconds);
        return true;
    }

    /// <summary>Hands a ready on-demand VM to its request; destroys it when the request no longer wants it.</summary>
    public async Task DeliverAsync(PoolOptions pool, VmRecord vm, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!await _onDemand.DeliverAsync(pool, vm, now, cancellationToken))
        {
            StartDestroy(pool, vm.Name);
        }
    }

    private CancellationToken PoolToken(string pool)
        => _poolWork.GetOrAdd(pool, _ => CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token)).Token;

    private void Signal(string pool, bool fullPass) => _signals.Writer.TryWrite(new PoolSignal(pool, fullPass));

    private void Track(string pool, Task task)
    {
        _background[task] = pool;
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

        _signals.Writer.TryComplete();
        _stopping.Dispose();
        _destroySlots.Dispose();
        _onDemandSlots.Dispose();
    }
}
