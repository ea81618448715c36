using VmPooler.Core.Configuration;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Providers.Qemu;

namespace VmPooler.QemuTests.Providers;

/// <summary>Start-up validation of qemu provider and pool options: every problem named by its key (no VMs needed).</summary>
public class QemuProviderOptionsTests
{
    private static List<string> ParseProvider(Dictionary<string, object?> settings)
    {
        var errors = new List<string>();
        QemuProviderOptions.Parse(settings, "providers.qemu", errors);
        return errors;
    }

    [Fact]
    public void Defaults_AreValid_WhenQemuIsInstalled()
    {
        var errors = new List<string>();
        var options = QemuProviderOptions.Parse(new Dictionary<string, object?>(), "providers.qemu", errors);

        errors.ShouldBeEmpty();
        options.RunDir.ShouldBe("/var/tmp/vmpooler-qemu");
        options.SavedStateDir.ShouldBe("/var/tmp/vmpooler-qemu/saved-states");
        options.SshForward.ShouldBe(SshForward.Port);
        options.MaxConcurrentBoots.ShouldBe(Environment.ProcessorCount);
    }

    [Fact]
    public void MissingQemuBinary_NamesTheDebianPackage()
    {
        var errors = ParseProvider(new() { ["qemu_binary"] = "/nonexistent/qemu-system-x86_64", ["qemu_img_binary"] = "no-such-qemu-img" });

        errors.ShouldContain(e => e.StartsWith("providers.qemu.qemu_binary:", StringComparison.Ordinal) && e.Contains("qemu-system-x86", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.qemu.qemu_img_binary:", StringComparison.Ordinal) && e.Contains("qemu-utils", StringComparison.Ordinal));
    }

    [Fact]
    public void BadProviderValues_AreEachReportedByKey()
    {
        var errors = ParseProvider(new()
        {
            ["run_dir"] = "relative/dir",
            ["ssh_forward"] = "bridge",
            ["max_concurrent_boots"] = "0",
            ["boot_timeout"] = "soon",
            ["memory"] = "12",
        });

        errors.Count.ShouldBe(5, string.Join("\n", errors));
        errors.ShouldContain(e => e.StartsWith("providers.qemu.run_dir:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.qemu.ssh_forward:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.qemu.max_concurrent_boots:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.qemu.boot_timeout:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.qemu.memory:", StringComparison.Ordinal));
    }

    [Fact]
    public void LongRunDir_IsRefused_BecauseSocketPathsWouldNotFit()
    {
        ParseProvider(new() { ["run_dir"] = "/" + new string('x', 80) })
            .ShouldContain(e => e.StartsWith("providers.qemu.run_dir:", StringComparison.Ordinal) && e.Contains("107", StringComparison.Ordinal));
    }

    [Fact]
    public void PoolOptions_OverrideProviderDefaults_AndBadOnesAreNamed()
    {
        var errors = new List<string>();
        var provider = QemuProviderOptions.Parse(new Dictionary<string, object?> { ["memory"] = "256", ["machine"] = "q35" }, "providers.qemu", errors);
        var pool = QemuPoolOptions.Parse("/nonexistent/guest", new Dictionary<string, object?> { ["cpus"] = "2", ["accel"] = "hyper", ["saved_state"] = "maybe" }, provider.PoolDefaults, "pools[0]", errors);

        pool.MemoryMiB.ShouldBe(256);
        pool.Machine.ShouldBe(QemuMachine.Q35);
        pool.Cpus.ShouldBe(2);
        errors.ShouldContain(e => e.StartsWith("pools[0].accel:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("pools[0].saved_state:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("pools[0].template:", StringComparison.Ordinal) && e.Contains("build-guest.sh", StringComparison.Ordinal));
    }

    [Fact]
    public void Config_WithAQemuPoolWhoseTemplateIsMissing_FailsToLoadNamingThePool()
    {
        const string Yaml = """
            :providers:
              :qemu:
                run_dir: '/tmp/vmpq-config-test'
            :pools:
              - name: 'tiny'
                provider: qemu
                template: '/nonexistent/guest'
                size: 1
                machine: 'sparc'
            """;

        var ex = Should.Throw<ConfigException>(() => VmPoolerServer.LoadOptions(Yaml));

        ex.Errors.ShouldContain(e => e.StartsWith("pools[0].template:", StringComparison.Ordinal));
        ex.Errors.ShouldContain(e => e.StartsWith("pools[0].machine:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, SavedStateMode.Shared)]
    [InlineData("shared", SavedStateMode.Shared)]
    [InlineData("true", SavedStateMode.Shared)]
    [InlineData("copy", SavedStateMode.Copy)]
    [InlineData("COPY", SavedStateMode.Copy)]
    [InlineData("false", SavedStateMode.Off)]
    public void SavedState_SharedByDefault_CopyOrOffOnRequest(string? value, SavedStateMode expected)
    {
        var errors = new List<string>();
        var settings = new Dictionary<string, object?>();
        if (value is not null)
        {
            settings["saved_state"] = value;
        }

        var pool = QemuPoolOptions.Parse("/nonexistent/guest", settings, new QemuPoolOptions(), "pools[0]", errors);

        pool.SavedState.ShouldBe(expected);
        errors.ShouldNotContain(e => e.StartsWith("pools[0].saved_state:", StringComparison.Ordinal));
    }

    [Fact]
    public void IdleTuningAndRestoreBound_AreReadAndChecked()
    {
        var errors = new List<string>();
        var options = QemuProviderOptions.Parse(new Dictionary<string, object?> { ["max_concurrent_restores"] = "12", ["tcg_tb_size"] = "8" }, "providers.qemu", errors);

        errors.ShouldBeEmpty();
        options.MaxConcurrentRestores.ShouldBe(12);
        options.PoolDefaults.TcgTbSizeMiB.ShouldBe(8);
        new QemuPoolOptions().TcgTbSizeMiB.ShouldBe(16);
        ParseProvider(new() { ["max_concurrent_restores"] = "0", ["tcg_tb_size"] = "0" }).Count.ShouldBe(2);
    }

    [Fact]
    public void DropbearKeyBinary_Missing_IsNamedWithItsPackage()
    {
        var errors = ParseProvider(new() { ["dropbearkey_binary"] = "/nonexistent/dropbearkey" });

        errors.ShouldHaveSingleItem().ShouldStartWith("providers.qemu.dropbearkey_binary:");
        errors[0].ShouldContain("dropbear-bin");
    }

    [Fact]
    public void HostKeyFingerprint_IsTheOpenSshSha256OfTheKeyBlob()
    {
        // ssh-keygen -l of ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMAzVnfXwaRESNnEBZmGV6c2hj4UPoYzf70P9u3lMty prints this.
        var blob = Convert.FromBase64String("AAAAC3NzaC1lZDI1NTE5AAAAINMAzVnfXwaRESNnEBZmGV6c2hj4UPoYzf70P9u3lMty");

        DropbearHostKey.FingerprintOf(blob).ShouldBe("SHA256:TKPrgQqjJyGkJMVV7gCgzVz5fLzDlLWUXev7fH4ItwQ");
    }

    [Fact]
    public void InfoSnapshots_TagsAreFound()
    {
        const string Info = "List of snapshots present on all disks:\r\nID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\r\n--        snap1            99.3 MiB 2026-11-21 02:17:31 00:00:07.692           \r\n";

        QemuProvider.HasSnapshot(Info, "snap1").ShouldBeTrue();
        QemuProvider.HasSnapshot(Info, "snap").ShouldBeFalse();
        QemuProvider.HasSnapshot("There is no snapshot available.", "snap1").ShouldBeFalse();
    }
}
