namespace VmPooler.Providers.VSphere;

/// <summary>What host selection knows about one host of a clone target.</summary>
internal sealed record HostUsage
{
    public required MoRef Host { get; init; }
    public required string Name { get; init; }
    public bool InMaintenanceMode { get; init; }

    /// <summary><c>overallStatus</c>: green, yellow, red or gray.</summary>
    public string OverallStatus { get; init; } = "green";

    /// <summary><c>runtime.connectionState</c>: connected, disconnected or notResponding.</summary>
    public string ConnectionState { get; init; } = "connected";

    public double CpuPercent { get; init; }
    public double MemoryPercent { get; init; }

    /// <summary>The busier of CPU and memory, in percent.</summary>
    public double Utilization => Math.Max(CpuPercent, MemoryPercent);

    /// <summary>Why the host gets no clones, or null when it may (the original's rules, spec §5.2 host selection).</summary>
    public string? Exclusion(int utilizationLimit)
    {
        if (InMaintenanceMode)
        {
            return "in maintenance mode";
        }

        if (!string.Equals(ConnectionState, "connected", StringComparison.OrdinalIgnoreCase))
        {
            return "not connected (" + ConnectionState + ")";
        }

        if (!string.Equals(OverallStatus, "green", StringComparison.OrdinalIgnoreCase))
        {
            return "status " + OverallStatus;
        }

        if (CpuPercent > utilizationLimit)
        {
            return $"CPU {CpuPercent:0}% > {utilizationLimit}%";
        }

        return MemoryPercent > utilizationLimit ? $"memory {MemoryPercent:0}% > {utilizationLimit}%" : null;
    }
}
