using System.Globalization;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Core.Lifecycle;

/// <summary>What to do with a pending VM that is not (yet) ready.</summary>
public enum PendingVerdict
{
    /// <summary>Keep waiting.</summary>
    Wait,

    /// <summary>Keep waiting, but warn once that it is slow (<c>timeout_notification</c>).</summary>
    Notify,

    /// <summary>Past <c>timeout</c>: destroy it (or forget it when the provider no longer has it).</summary>
    TimedOut,
}

/// <summary>What to do with a ready VM.</summary>
public enum ReadyVerdict
{
    /// <summary>Checked less than <c>vm_checktime</c> ago: leave it alone.</summary>
    Skip,

    /// <summary>Health-check it now.</summary>
    Check,

    /// <summary>Ready for longer than <c>ready_ttl</c>: recycle it.</summary>
    Expired,
}

/// <summary>
/// The lifecycle rules of spec §4 as pure functions of (VM, pool options, now): no clock, no I/O, so every timeout
/// and transition is tested without waiting.
/// </summary>
public static class LifecycleRules
{
    /// <summary>The effective settings of one pool: per-pool values over global ones over defaults.</summary>
    public static PoolTimings TimingsFor(PoolOptions pool, GlobalOptions global)
    {
        var min = pool.CheckLoopDelayMin ?? global.CheckLoopDelayMin;
        var max = pool.CheckLoopDelayMax ?? global.CheckLoopDelayMax;
        var decay = pool.CheckLoopDelayDecay ?? global.CheckLoopDelayDecay;
        return new PoolTimings(
            Timeout: pool.Timeout ?? global.Timeout,
            TimeoutNotification: pool.TimeoutNotification ?? global.TimeoutNotification,
            ReadyTtl: pool.ReadyTtl ?? global.ReadyTtl,
            CheckInterval: global.VmCheckTime,
            DefaultLifetime: global.VmLifetime,
            LoopDelayMin: min,
            LoopDelayMax: max < min ? min : max,
            LoopDelayDecay: decay <= 1.0 ? GlobalOptions.DefaultCheckLoopDelayDecay : decay);
    }

    /// <summary>How many clones a pool needs: <c>size − (ready + pending)</c>, never negative (spec §4.2.1).</summary>
    public static int ClonesNeeded(int size, int ready, int pending) => size <= 0 ? 0 : Math.Max(0, size - (ready + pending));

    /// <summary>How many ready VMs are over the pool's size and should be recycled (spec §4.2 step 12).</summary>
    public static int ExcessReady(int size, int ready) => Math.Max(0, ready - Math.Max(0, size));

    /// <summary>A pending VM that did not pass its ready check: wait, warn once, or give up (spec §4.3).</summary>
    public static PendingVerdict EvaluatePending(VmView vm, PoolTimings timings, DateTimeOffset now)
    {
        if (vm.Cloned is not { } cloned)
        {
            // No clone time: the original left such VMs pending forever; treat them as timed out instead.
            return PendingVerdict.TimedOut;
        }

        var age = now - cloned;
        if (age > timings.Timeout)
        {
            return PendingVerdict.TimedOut;
        }

        return age > timings.TimeoutNotification && !vm.TimeoutNotified
            ? PendingVerdict.Notify
            : PendingVerdict.Wait;
    }

    /// <summary>A ready VM: skip (recently checked), check, or recycle (past <c>ready_ttl</c>) (spec §4.4).</summary>
    public static ReadyVerdict EvaluateReady(VmView vm, PoolTimings timings, DateTimeOffset now)
    {
        if (vm.Checked is { } checkedAt && now - checkedAt < timings.CheckInterval)
        {
            return ReadyVerdict.Skip;
        }

        var readySince = vm.Ready ?? DateTimeOffset.UnixEpoch;
        return now - readySince > timings.ReadyTtl ? ReadyVerdict.Expired : ReadyVerdict.Check;
    }

    /// <summary>
    /// True when a running VM has reached its lifetime: whole hours since checkout ≥ lifetime (spec §4.5). A VM without a
    /// checkout time is expired (it cannot be timed).
    /// </summary>
    public static bool IsRunningExpired(VmView vm, TimeSpan defaultLifetime, DateTimeOffset now)
    {
        if (vm.CheckedOut is not { } checkout)
        {
            return true;
        }

        var lifetime = vm.LifetimeHours(defaultLifetime.TotalHours);
        return lifetime > 0 && Math.Floor((now - checkout).TotalHours) >= lifetime;
    }

    /// <summary>
    /// The next wait of a pool loop (spec §4.2): back to min when the pass did work, else grow by decay up to max.
    /// </summary>
    public static TimeSpan NextLoopDelay(TimeSpan current, bool didWork, PoolTimings timings)
    {
        if (didWork || current <= TimeSpan.Zero)
        {
            return timings.LoopDelayMin;
        }

        var next = TimeSpan.FromTicks((long)(current.Ticks * timings.LoopDelayDecay));
        return next > timings.LoopDelayMax ? timings.LoopDelayMax : next;
    }

    /// <summary>Ruby's <c>String#to_i</c>: the leading integer of a string (<c>"2x"</c> → 2, <c>"abc"</c> → 0).</summary>
    public static long ParseLeadingInt(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return 0;
        }

        var span = value.AsSpan().TrimStart();
        var length = 0;
        if (length < span.Length && (span[0] == '-' || span[0] == '+'))
        {
            length++;
        }

        while (length < span.Length && char.IsAsciiDigit(span[length]))
        {
            length++;
        }

        return long.TryParse(span[..length], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var result)
            ? result
            : 0;
    }
}

/// <summary>The effective lifecycle settings of one pool.</summary>
public sealed record PoolTimings(
    TimeSpan Timeout,
    TimeSpan TimeoutNotification,
    TimeSpan ReadyTtl,
    TimeSpan CheckInterval,
    TimeSpan DefaultLifetime,
    TimeSpan LoopDelayMin,
    TimeSpan LoopDelayMax,
    double LoopDelayDecay);
