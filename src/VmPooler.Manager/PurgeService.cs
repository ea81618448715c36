using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Diagnostics;
using VmPooler.Core.Inventory;
using VmPooler.Core.Metrics;
using VmPooler.Core.Operations;

namespace VmPooler.Manager;

/// <summary>
/// The 3.8 purge (<c>purge_enabled</c>, every <c>purge_interval</c>; spec §4.10), as a backstop to the reconciler that
/// enforces the shorter pool limits continuously: a pending VM older than <c>max_pending_age</c> and a ready VM older
/// than <c>max_ready_age</c> are moved to completed (so the reconciler destroys them), each with a dead-letter entry;
/// a completed VM older than <c>max_completed_age</c> (its destroy keeps failing) is dropped from the inventory, so the
/// reconciler finds it in the provider as unknown and destroys it afresh. With <c>purge_dry_run</c> it only logs what it
/// would do. Counted as <c>vmpooler_purge.&lt;state&gt;.&lt;pool&gt;</c> (and <c>vmpooler_purge_dry_run…</c>).
/// </summary>
internal sealed partial class PurgeService : BackgroundService
{
    /// <summary>Set on a VM the purge moved to completed: its completed age counts from then.</summary>
    public const string PurgedAtField = "purged_at";

    private readonly VmPoolerOptions _options;
    private readonly IInventory _inventory;
    private readonly DeadLetterRecorder _deadLetters;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Counter<long>? _purged;
    private readonly Counter<long>? _dryRun;

    public PurgeService(VmPoolerOptions options, IInventory inventory, DeadLetterRecorder deadLetters, TimeProvider timeProvider, ILogger<PurgeService> logger, VmPoolerMetrics? metrics = null)
    {
        _options = options;
        _inventory = inventory;
        _deadLetters = deadLetters;
        _time = timeProvider;
        _logger = logger;
        _purged = metrics?.Meter.CreateCounter<long>("vmpooler_purge", description: "VMs purged (3.8), by state (pending, ready, completed) and pool.");
        _dryRun = metrics?.Meter.CreateCounter<long>("vmpooler_purge_dry_run", description: "VMs a dry-run purge would have purged, by state and pool.");
    }

    /// <summary>One purge over every pool; returns what was (or, dry, would be) purged.</summary>
    public async Task<IReadOnlyList<PurgeCandidate>> PurgeAsync(bool dryRun, CancellationToken cancellationToken)
    {
        var done = new List<PurgeCandidate>();
        foreach (var pool in _options.Pools)
        {
            var snapshot = await _inventory.GetPoolAsync(pool.Name, cancellationToken);
            foreach (var candidate in Candidates(snapshot, _time.GetUtcNow()))
            {
                if (dryRun)
                {
                    LogDryRun(_logger, candidate.Pool, candidate.Vm, candidate.State, candidate.Age.TotalSeconds);
                    _dryRun?.Add(1, new("state", candidate.State), new("pool", candidate.Pool));
                    done.Add(candidate);
                }
                else if (await ApplyAsync(candidate, cancellationToken))
                {
                    LogPurged(_logger, candidate.Pool, candidate.Vm, candidate.State, candidate.Age.TotalSeconds);
                    _purged?.Add(1, new("state", candidate.State), new("pool", candidate.Pool));
                    done.Add(candidate);
                }
            }
        }

        return done;
    }

    /// <summary>The stale VMs of one pool by the <c>max_*_age</c> rules.</summary>
    public IEnumerable<PurgeCandidate> Candidates(PoolSnapshot pool, DateTimeOffset now)
    {
        var ops = _options.Operations;
        foreach (var (vm, age) in Aged(pool.Pending, now, v => v.View.Cloned).Where(a => a.Age > ops.MaxPendingAge))
        {
            yield return new PurgeCandidate(pool.Pool, vm, DeadLetterKind.Pending, "pending", age);
        }

        foreach (var (vm, age) in Aged(pool.Ready, now, v => v.View.Ready).Where(a => a.Age > ops.MaxReadyAge))
        {
            yield return new PurgeCandidate(pool.Pool, vm, DeadLetterKind.Ready, "ready", age);
        }

        foreach (var (vm, age) in Aged(pool.Completed, now, v => VmTime.Parse(v.Get(PurgedAtField)) ?? v.View.Destroyed ?? v.View.CheckedOut ?? v.View.Cloned).Where(a => a.Age > ops.MaxCompletedAge))
        {
            yield return new PurgeCandidate(pool.Pool, vm, DeadLetterKind.Purge, "completed", age);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Operations.PurgeEnabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.Operations.PurgeInterval, _time);
        while (await NextAsync(timer, stoppingToken))
        {
            try
            {
                await PurgeAsync(_options.Operations.PurgeDryRun, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(_logger, ex.Message);
            }
        }
    }

    private async Task<bool> ApplyAsync(PurgeCandidate c, CancellationToken cancellationToken)
    {
        var reason = string.Create(CultureInfo.InvariantCulture, $"purged: {c.State} for {c.Age.TotalSeconds:0} s");
        bool applied = c.From == DeadLetterKind.Purge
            ? await _inventory.ForgetAsync(c.Pool, c.Vm, VmState.Completed, null, cancellationToken: cancellationToken)
            : await _inventory.MoveAsync(c.Pool, c.Vm, c.From == DeadLetterKind.Pending ? VmState.Pending : VmState.Ready, VmState.Completed, new Dictionary<string, string> { [PurgedAtField] = VmTime.Format(_time.GetUtcNow()) }, cancellationToken: cancellationToken);
        if (applied)
        {
            await _deadLetters.RecordAsync(c.Pool, c.Vm, DeadLetterKind.Purge, reason, 1, cancellationToken);
        }

        return applied;
    }

    private static IEnumerable<(string Vm, TimeSpan Age)> Aged(IReadOnlyList<VmRecord> vms, DateTimeOffset now, Func<VmRecord, DateTimeOffset?> since)
    {
        foreach (var vm in vms)
        {
            if (since(vm) is { } time)
            {
                yield return (vm.Name, now - time);
            }
        }
    }

    private static async Task<bool> NextAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventIds.PurgeDryRun, LogLevel.Information, "[purge dry run] [{Pool}] '{Vm}' would be purged: {State} for {Seconds:0} s")]
    private static partial void LogDryRun(ILogger logger, string pool, string vm, string state, double seconds);

    [LoggerMessage(EventIds.Purged, LogLevel.Warning, "[purge] [{Pool}] '{Vm}' purged: {State} for {Seconds:0} s")]
    private static partial void LogPurged(ILogger logger, string pool, string vm, string state, double seconds);

    [LoggerMessage(EventIds.PurgeFailed, LogLevel.Warning, "[!] purge failed (the next interval tries again): {Error}")]
    private static partial void LogFailed(ILogger logger, string error);
}
