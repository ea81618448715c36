namespace VmPooler.LoadGen;

/// <summary>What a manager run measured (see <see cref="ManagerScale"/>).</summary>
internal sealed record ManagerResult(
    ManagerRun Run,
    bool DistinctIds,
    double FillSeconds,
    double WindowSeconds,
    double CpuPercent,
    double CpuPercentMaxManager,
    double RssAverageMb,
    double RssMaxMb,
    Replacements Replacements,
    string Load)
{
    /// <summary>After SIGKILL of the busiest manager (several managers and <see cref="ManagerRun.KillOne"/> only).</summary>
    public Replacements? AfterKill { get; init; }
}
