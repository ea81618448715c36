namespace VmPooler.Core.Operations;

/// <summary>What the health evaluation measured of one pool.</summary>
public sealed record PoolHealth(
    string Pool,
    int Pending,
    int Ready,
    double OldestPendingSeconds,
    double OldestReadySeconds,
    int Stuck,
    int DeadLetters,
    int Orphans);
