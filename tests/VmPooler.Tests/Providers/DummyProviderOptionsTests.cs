using VmPooler.Providers.Dummy;

namespace VmPooler.Tests.Providers;

public class DummyProviderOptionsTests
{
    private const string Path = "providers.dummy";

    private static (DummyProviderOptions Options, List<string> Errors) Parse(params (string Key, object? Value)[] settings)
    {
        var errors = new List<string>();
        var options = DummyProviderOptions.Parse(settings.ToDictionary(s => s.Key, s => s.Value), Path, errors);
        return (options, errors);
    }

    [Fact]
    public void Parse_Empty_DefaultsNeverFailAndNoDelay()
    {
        var (options, errors) = Parse();

        errors.ShouldBeEmpty();
        options.ShouldBe(new DummyProviderOptions());
        options.Ip.ShouldBe("127.0.0.1");
        options.Seed.ShouldBeNull();
        options.CreateVmMaxTime.ShouldBe(TimeSpan.Zero);
        options.CreateVmMinTime.ShouldBe(TimeSpan.Zero);
    }

    [Fact]
    public void Parse_EveryOption_Read()
    {
        var (options, errors) = Parse(
            ("createvm_max_time", "10"),
            ("createvm_fail_percent", "5"),
            ("boot_max_time", "30"),
            ("vmready_fail_percent", "1.5"),
            ("getvm_poweroff_percent", "2"),
            ("getvm_rename_percent", "3"),
            ("createdisk_max_time", "4"),
            ("createdisk_fail_percent", "6"),
            ("createsnapshot_max_time", "7"),
            ("createsnapshot_fail_percent", "8"),
            ("revertsnapshot_max_time", "9"),
            ("revertsnapshot_fail_percent", "11"),
            ("destroyvm_max_shutdown_time", "12"),
            ("destroyvm_max_time", "13"),
            ("destroyvm_fail_percent", "14"),
            ("vms_in_pool_fail_percent", "15"),
            ("ip", "10.1.2.3"),
            ("seed", "99"));

        errors.ShouldBeEmpty();
        options.CreateVmMaxTime.ShouldBe(TimeSpan.FromSeconds(10));
        options.CreateVmFailPercent.ShouldBe(5);
        options.BootMaxTime.ShouldBe(TimeSpan.FromSeconds(30));
        options.VmReadyFailPercent.ShouldBe(1.5);
        options.GetVmPowerOffPercent.ShouldBe(2);
        options.GetVmRenamePercent.ShouldBe(3);
        options.CreateDiskMaxTime.ShouldBe(TimeSpan.FromSeconds(4));
        options.CreateDiskFailPercent.ShouldBe(6);
        options.CreateSnapshotMaxTime.ShouldBe(TimeSpan.FromSeconds(7));
        options.CreateSnapshotFailPercent.ShouldBe(8);
        options.RevertSnapshotMaxTime.ShouldBe(TimeSpan.FromSeconds(9));
        options.RevertSnapshotFailPercent.ShouldBe(11);
        options.DestroyVmMaxShutdownTime.ShouldBe(TimeSpan.FromSeconds(12));
        options.DestroyVmMaxTime.ShouldBe(TimeSpan.FromSeconds(13));
        options.DestroyVmFailPercent.ShouldBe(14);
        options.VmsInPoolFailPercent.ShouldBe(15);
        options.Ip.ShouldBe("10.1.2.3");
        options.Seed.ShouldBe(99);
    }

    [Fact]
    public void Parse_MaxTimeOnly_MinIsOneSecond()
    {
        var (options, _) = Parse(("createvm_max_time", "10"), ("boot_max_time", "20"));

        options.CreateVmMinTime.ShouldBe(TimeSpan.FromSeconds(1));
        options.BootMinTime.ShouldBe(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Parse_MaxTimeBelowOneSecond_MinIsMax()
    {
        var (options, _) = Parse(("createvm_max_time", "0.25"));

        options.CreateVmMinTime.ShouldBe(TimeSpan.FromSeconds(0.25));
        options.CreateVmMaxTime.ShouldBe(TimeSpan.FromSeconds(0.25));
    }

    [Fact]
    public void Parse_ExplicitMinTimes_Used()
    {
        var (options, errors) = Parse(("createvm_max_time", "10"), ("createvm_min_time", "0"), ("boot_max_time", "10"), ("boot_min_time", "4"));

        errors.ShouldBeEmpty();
        options.CreateVmMinTime.ShouldBe(TimeSpan.Zero);
        options.BootMinTime.ShouldBe(TimeSpan.FromSeconds(4));
    }

    [Theory]
    [InlineData("createvm_max_time", "-1")]
    [InlineData("createvm_max_time", "ten")]
    [InlineData("destroyvm_max_time", "1e9")]
    [InlineData("boot_min_time", "NaN")]
    [InlineData("createdisk_max_time", "")]
    public void Parse_BadSeconds_ErrorNamesKey(string key, string value)
    {
        var (_, errors) = Parse((key, value));

        errors.ShouldHaveSingleItem().ShouldBe($"{Path}.{key}: must be a number of seconds ≥ 0 (got \"{value}\")");
    }

    [Theory]
    [InlineData("createvm_fail_percent", "101")]
    [InlineData("vmready_fail_percent", "-0.5")]
    [InlineData("destroyvm_fail_percent", "half")]
    [InlineData("vms_in_pool_fail_percent", "NaN")]
    public void Parse_BadPercent_ErrorNamesKey(string key, string value)
    {
        var (_, errors) = Parse((key, value));

        errors.ShouldHaveSingleItem().ShouldBe($"{Path}.{key}: must be a percentage from 0 to 100 (got \"{value}\")");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("100")]
    [InlineData("0.01")]
    public void Parse_PercentBounds_Accepted(string value)
    {
        var (options, errors) = Parse(("createvm_fail_percent", value));

        errors.ShouldBeEmpty();
        options.CreateVmFailPercent.ShouldBe(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Parse_NonScalarValue_ErrorNamesKeyAndType()
    {
        var (_, errors) = Parse(("createvm_fail_percent", new List<object?> { "1" }), ("createvm_max_time", new Dictionary<string, object?>()));

        errors.Count.ShouldBe(2);
        errors.ShouldContain(e => e.StartsWith($"{Path}.createvm_fail_percent: must be a percentage", StringComparison.Ordinal) && e.EndsWith("(got a list)", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{Path}.createvm_max_time: must be a number of seconds", StringComparison.Ordinal) && e.EndsWith("(got a mapping)", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_BadSeed_ErrorNamesKey()
    {
        var (options, errors) = Parse(("seed", "1.5"));

        errors.ShouldHaveSingleItem().ShouldBe($"{Path}.seed: must be an integer (got \"1.5\")");
        options.Seed.ShouldBeNull();
    }

    [Fact]
    public void Parse_SeveralProblems_AllReported()
    {
        var (_, errors) = Parse(("createvm_fail_percent", "200"), ("destroyvm_max_time", "-3"), ("seed", "x"), ("getvm_rename_percent", "7"));

        errors.Count.ShouldBe(3);
        errors.ShouldContain(e => e.StartsWith($"{Path}.createvm_fail_percent:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{Path}.destroyvm_max_time:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{Path}.seed:", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_NullValuesAndEmptyIp_Defaults()
    {
        var (options, errors) = Parse(("createvm_fail_percent", null), ("createvm_max_time", null), ("ip", ""), ("seed", null));

        errors.ShouldBeEmpty();
        options.ShouldBe(new DummyProviderOptions());
    }

    [Fact]
    public void Parse_UnknownKeys_Ignored()
    {
        var (_, errors) = Parse(("filename", "/tmp/dummy.yaml"), ("connection_pool_size", "3"), ("provider_class", "dummy"));

        errors.ShouldBeEmpty();
    }
}
