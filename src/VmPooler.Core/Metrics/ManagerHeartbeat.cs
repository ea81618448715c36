namespace VmPooler.Core.Metrics;

/// <summary>
/// What the pool manager tells <c>/readyz</c>: whether its loop runs, whether it stands by (it owns no pool: other
/// managers own them) and when it last finished a pass. Written by the manager, read by the health check; one per application.
/// </summary>
public sealed class ManagerHeartbeat
{
    private long _lastPassTicks = long.MinValue;
    private volatile bool _running;
    private volatile bool _standingBy;

    public bool Running => _running;

    public bool StandingBy => _standingBy;

    /// <summary>When the last pass over any pool finished; null before the first.</summary>
    public DateTimeOffset? LastPass
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastPassTicks);
            return ticks == long.MinValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public void MarkRunning(bool running) => _running = running;

    public void MarkStandingBy(bool standingBy) => _standingBy = standingBy;

    public void MarkPass(DateTimeOffset at) => Interlocked.Exchange(ref _lastPassTicks, at.UtcTicks);
}
