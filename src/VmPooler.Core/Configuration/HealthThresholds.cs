namespace VmPooler.Core.Configuration;

/// <summary><c>health_thresholds</c> (spec §4.10), with upstream's defaults.</summary>
public sealed record HealthThresholds
{
    public int PendingQueueMax { get; init; } = 100;

    public int ReadyQueueMax { get; init; } = 500;

    public int DlqMaxWarning { get; init; } = 100;

    public int DlqMaxCritical { get; init; } = 1000;

    /// <summary><c>stuck_vm_age_threshold</c> (seconds): a pending VM older than this is stuck.</summary>
    public TimeSpan StuckVmAge { get; init; } = TimeSpan.FromSeconds(7200);

    public int StuckVmMaxWarning { get; init; } = 10;

    public int StuckVmMaxCritical { get; init; } = 50;
}
