using VmPooler.Core.Configuration;

namespace VmPooler.Providers.Dummy;

/// <summary>
/// Options of the dummy provider (spec §6.3). Times are seconds and may be fractional; a delay is drawn uniformly from
/// [min, max], where min defaults to the smaller of 1 s and max (so <c>createvm_max_time: 10</c> behaves as in the
/// original: 1–10 s). Percentages are 0–100; 0 (the default) never fails.
/// </summary>
internal sealed record DummyProviderOptions
{
    public TimeSpan CreateVmMinTime { get; init; }
    public TimeSpan CreateVmMaxTime { get; init; }
    public double CreateVmFailPercent { get; init; }

    /// <summary><c>boot_min_time</c> / <c>boot_max_time</c> (our extension): time after a clone before the ready check passes.</summary>
    public TimeSpan BootMinTime { get; init; }
    public TimeSpan BootMaxTime { get; init; }
    public double VmReadyFailPercent { get; init; }
    public double GetVmPowerOffPercent { get; init; }
    public double GetVmRenamePercent { get; init; }
    public TimeSpan CreateDiskMaxTime { get; init; }
    public double CreateDiskFailPercent { get; init; }
    public TimeSpan CreateSnapshotMaxTime { get; init; }
    public double CreateSnapshotFailPercent { get; init; }
    public TimeSpan RevertSnapshotMaxTime { get; init; }
    public double RevertSnapshotFailPercent { get; init; }
    public TimeSpan DestroyVmMaxShutdownTime { get; init; }
    public TimeSpan DestroyVmMaxTime { get; init; }
    public double DestroyVmFailPercent { get; init; }

    /// <summary><c>vms_in_pool_fail_percent</c> (our extension): inventory listing failures, to exercise back-off.</summary>
    public double VmsInPoolFailPercent { get; init; }

    /// <summary><c>ip</c> (our extension): the address reported for every VM. Default 127.0.0.1.</summary>
    public string Ip { get; init; } = "127.0.0.1";

    /// <summary><c>seed</c> (our extension): seeds the random source so a run can be repeated.</summary>
    public int? Seed { get; init; }

    /// <summary>
    /// <c>state_dir</c> (our extension): keep the VMs as files in this directory instead of in memory, so they outlive
    /// the process and every process configured with the same directory sees the same VMs (chaos tests kill managers).
    /// </summary>
    public string? StateDirectory { get; init; }

    /// <summary>
    /// <c>outage_file</c> (our extension): while this file exists every provider call fails, and each such call appends
    /// a line to <c>&lt;outage_file&gt;.calls</c> (so a test can count how often a dead provider is called).
    /// </summary>
    public string? OutageFile { get; init; }

    /// <summary>
    /// <c>calm_file</c> (our extension): while this file exists no fault is injected (every <c>*_percent</c> option is
    /// ignored), so a chaos test can let the pools settle before its final check.
    /// </summary>
    public string? CalmFile { get; init; }

    /// <summary>Reads the options from a provider section, collecting every problem (each naming its key) into <paramref name="errors"/>.</summary>
    public static DummyProviderOptions Parse(IReadOnlyDictionary<string, object?> settings, string path, ICollection<string> errors)
    {
        var reader = new ConfigReader();
        var options = Parse(reader.Section(settings, path));
        ProviderSettings.CopyErrors(reader, errors);
        return options;
    }

    /// <summary>Reads the options from a provider section; problems go to the section's reader.</summary>
    public static DummyProviderOptions Parse(ConfigSection section)
    {
        TimeSpan Seconds(string key, TimeSpan? fallback = null) => section.Seconds(key, NumberRule.NonNegative) ?? fallback ?? TimeSpan.Zero;

        double Percent(string key) => section.Percent(key) ?? 0;

        string? AbsolutePath(string key)
        {
            var value = section.String(key);
            if (value is null || (value.Length > 0 && Path.IsPathFullyQualified(value)))
            {
                return value;
            }

            section.Error(key, "must be an absolute path (got " + ConfigReader.Describe(value) + ")");
            return null;
        }

        var createMax = Seconds("createvm_max_time");
        var bootMax = Seconds("boot_max_time");
        var ip = section.String("ip");
        return new DummyProviderOptions
        {
            CreateVmMaxTime = createMax,
            CreateVmMinTime = Seconds("createvm_min_time", Min(TimeSpan.FromSeconds(1), createMax)),
            CreateVmFailPercent = Percent("createvm_fail_percent"),
            BootMaxTime = bootMax,
            BootMinTime = Seconds("boot_min_time", Min(TimeSpan.FromSeconds(1), bootMax)),
            VmReadyFailPercent = Percent("vmready_fail_percent"),
            GetVmPowerOffPercent = Percent("getvm_poweroff_percent"),
            GetVmRenamePercent = Percent("getvm_rename_percent"),
            CreateDiskMaxTime = Seconds("createdisk_max_time"),
            CreateDiskFailPercent = Percent("createdisk_fail_percent"),
            CreateSnapshotMaxTime = Seconds("createsnapshot_max_time"),
            CreateSnapshotFailPercent = Percent("createsnapshot_fail_percent"),
            RevertSnapshotMaxTime = Seconds("revertsnapshot_max_time"),
            RevertSnapshotFailPercent = Percent("revertsnapshot_fail_percent"),
            DestroyVmMaxShutdownTime = Seconds("destroyvm_max_shutdown_time"),
            DestroyVmMaxTime = Seconds("destroyvm_max_time"),
            DestroyVmFailPercent = Percent("destroyvm_fail_percent"),
            VmsInPoolFailPercent = Percent("vms_in_pool_fail_percent"),
            Ip = string.IsNullOrEmpty(ip) ? "127.0.0.1" : ip,
            Seed = section.Int("seed"),
            StateDirectory = AbsolutePath("state_dir"),
            OutageFile = AbsolutePath("outage_file"),
            CalmFile = AbsolutePath("calm_file"),
        };
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
