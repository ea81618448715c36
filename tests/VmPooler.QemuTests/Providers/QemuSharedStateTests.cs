using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Qemu;
using VmPooler.QemuTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.QemuTests.Providers;

/// <summary>
/// Clones that share their memory with the saved state (<c>saved_state: shared</c>): each maps the golden RAM file
/// privately, so what one writes is its own and the file never changes; each has its own hostname and SSH host key;
/// and when sharing is not possible the clone copies the RAM instead, saying why.
/// </summary>
[Collection(QemuCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class QemuSharedStateTests(QemuEnvironment environment, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(150);
    private readonly string _runDir = environment.NewRunDirectory("sh");
    private readonly List<(QemuProvider Provider, PoolOptions Pool)> _created = [];
    private RecordingLogger _log = null!;

    public Task InitializeAsync()
    {
        _log = new RecordingLogger(environment.Logger(output));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var (provider, pool) in _created)
        {
            foreach (var vm in await provider.VmsInPoolAsync(pool, CancellationToken.None))
            {
                await provider.DestroyVmAsync(pool, vm, CancellationToken.None).DefaultTimeout(CallTimeout);
            }
        }

        environment.KillAll(_runDir).ShouldBe(0, "every VM was destroyed");
    }

    [Fact]
    public async Task TwoSharedClones_AreIsolated_HaveTheirOwnNameAndHostKey_AndNeverWriteTheGoldenRam()
    {
        var (provider, pool) = Provider("shared");
        var beforeIdentity = QemuEnvironment.WatchSshBeforeIdentity(provider);
        var a = await provider.CreateVmAsync(pool, "sh-a", CancellationToken.None).DefaultTimeout(CallTimeout);
        var b = await provider.CreateVmAsync(pool, "sh-b", CancellationToken.None).DefaultTimeout(CallTimeout);

        // Restored from one golden VM whose sshd listened already: each clone answered SSH at once, but served no host
        // key of any type before it had its own (the golden VM has none and cannot make one).
        beforeIdentity.Count.ShouldBe(2);
        beforeIdentity.ShouldAllBe(seen => seen.BannerProblem == null, "sshd listens in the restored clone already");
        beforeIdentity.ShouldAllBe(seen => seen.Keys.Count == 0, "no host key before the clone's own");
        foreach (var vm in new[] { "sh-a", "sh-b" })
        {
            // The identity request carries the private key: the console does not echo it into the log QEMU keeps. The
            // golden VM was saved with the guest's identity agent waiting on the console: it answered, with no shell line.
            var console = await File.ReadAllTextAsync(Path.Combine(_runDir, "shared", vm, "console.log"));
            console.ShouldNotContain("printf", customMessage: "the private host key must not reach console.log");
            console.ShouldNotContain("\\0");
            console.ShouldNotContain($" {vm} ", customMessage: "the agent's request (name, clock, entropy, key) must not reach console.log");
            console.ShouldMatch(@"VMPOOLER-IDENTITY [0-9a-f]{10} ok [0-9a-f]{64}");
        }

        // Both map the same golden RAM file, privately (copy-on-write), and the file is read-only.
        var ram = QemuEnvironment.GoldenRamOf(Pid("shared", "sh-a")).ShouldNotBeNull();
        ram.Mode.ShouldBe("p");
        QemuEnvironment.GoldenRamOf(Pid("shared", "sh-b")).ShouldBe(ram);
        (File.GetUnixFileMode(ram.Path) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)).ShouldBe(UnixFileMode.None);
        var checksum = QemuEnvironment.Checksum(ram.Path);
        BootedFrom("shared", "sh-a").ShouldBe("shared-state");

        // What one writes (to its disk and to its memory: /run is a tmpfs) the other does not see.
        await Ssh.OutputAsync(environment.Key, a.Ip!, a.SshPort!.Value, "echo only-a > /root/mine; dd if=/dev/urandom of=/run/fill bs=1M count=24 2>/dev/null; sync");
        (await Ssh.OutputAsync(environment.Key, b.Ip!, b.SshPort!.Value, "ls /root; ls /run")).ShouldNotContain("mine");
        (await Ssh.OutputAsync(environment.Key, b.Ip!, b.SshPort!.Value, "ls /run")).ShouldNotContain("fill");

        // Each has its own name and its own host key, whose fingerprint the provider reports: pinned, strict checking works.
        (await Ssh.OutputAsync(environment.Key, a.Ip!, a.SshPort!.Value, "hostname")).ShouldBe("sh-a");
        (await Ssh.OutputAsync(environment.Key, b.Ip!, b.SshPort!.Value, "hostname")).ShouldBe("sh-b");
        var keyA = await Ssh.ScanHostKeyAsync(a.Ip!, a.SshPort!.Value);
        var keyB = await Ssh.ScanHostKeyAsync(b.Ip!, b.SshPort!.Value);
        a.HostKeyFingerprint.ShouldBe(keyA.Fingerprint);
        b.HostKeyFingerprint.ShouldBe(keyB.Fingerprint);
        keyA.Fingerprint.ShouldNotBe(keyB.Fingerprint);
        (await provider.GetVmAsync(pool, "sh-b", CancellationToken.None).DefaultTimeout())!.HostKeyFingerprint.ShouldBe(keyB.Fingerprint);
        var knownHostsA = Path.Combine(_runDir, "known_hosts_a");
        await File.WriteAllTextAsync(knownHostsA, keyA.KnownHostsLine + "\n");
        (await Ssh.RunStrictAsync(environment.Key, knownHostsA, a.Ip!, a.SshPort!.Value, "hostname")).Output.ShouldBe("sh-a");
        var impostor = keyA.KnownHostsLine.Replace($":{a.SshPort}]", $":{b.SshPort}]", StringComparison.Ordinal);
        await File.WriteAllTextAsync(knownHostsA, impostor + "\n");
        (await Ssh.RunStrictAsync(environment.Key, knownHostsA, b.Ip!, b.SshPort!.Value, "hostname")).ExitCode.ShouldNotBe(0, "b's key is not a's");

        // Whatever key type a client insists on, the only key served is the recorded one.
        (await Ssh.ScanHostKeysAsync(a.Ip!, a.SshPort!.Value)).ShouldBe([("ssh-ed25519", a.HostKeyFingerprint!)]);

        // sshd offers ssh-ed25519 alone (guest/build-guest.sh builds dropbear with no other host key type; Debian's, under
        // -R, offers RSA, ECDSA and DSS too, key or not): a client that accepts only another type is refused at
        // negotiation, before any key is sent, and says so.
        foreach (var algorithms in new[] { "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384,ecdsa-sha2-nistp521", "rsa-sha2-512,rsa-sha2-256,ssh-rsa", "ssh-dss" })
        {
            var refused = await Ssh.RunWithHostKeyAlgorithmsAsync(environment.Key, a.Ip!, a.SshPort!.Value, algorithms, "hostname");
            refused.ExitCode.ShouldNotBe(0, algorithms);
            refused.Error.Split('\n').ShouldContain(
                line => line.TrimEnd().EndsWith("no matching host key type found. Their offer: ssh-ed25519", StringComparison.Ordinal),
                $"{algorithms}: {refused.Error}");
        }

        // The session is served by a fork of the listening sshd, not a re-execution of it (dropbear's `-2 FD` argument):
        // under TCG each exec of the dynamically linked dropbear costs ~0.2 s of CPU (guest/build-guest.sh).
        (await Ssh.OutputAsync(environment.Key, a.Ip!, a.SshPort!.Value, "tr '\\0' ' ' < /proc/$PPID/cmdline")).ShouldBe("/usr/sbin/dropbear -F -E -s -p 22 -R");

        // Snapshot and revert of a shared clone: the internal snapshot holds the clone's own RAM, the golden file is untouched.
        await Ssh.OutputAsync(environment.Key, a.Ip!, a.SshPort!.Value, "echo before > /root/marker; sync");
        (await provider.CreateSnapshotAsync(pool, "sh-a", "s1", CancellationToken.None).DefaultTimeout(CallTimeout)).ShouldBeTrue();
        await Ssh.OutputAsync(environment.Key, a.Ip!, a.SshPort!.Value, "echo after > /root/marker; sync");
        (await provider.RevertSnapshotAsync(pool, "sh-a", "s1", CancellationToken.None).DefaultTimeout(CallTimeout)).ShouldBeTrue();
        await AsyncTestHelpers.WaitUntilAsync(
            async () => await Ssh.RunAsync(environment.Key, a.Ip!, a.SshPort!.Value, "cat /root/marker") is { ExitCode: 0, Output: "before" },
            "the revert brings the file back",
            TimeSpan.FromSeconds(60));
        (await provider.CreateDiskAsync(pool, "sh-b", 1, CancellationToken.None).DefaultTimeout(CallTimeout)).ShouldBeTrue();
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await Ssh.RunAsync(environment.Key, b.Ip!, b.SshPort!.Value, "ls /sys/block")).Output.Split('\n').Contains("vdb"),
            "the hot-added disk appears in the shared clone",
            TimeSpan.FromSeconds(30));

        QemuEnvironment.Checksum(ram.Path).ShouldBe(checksum, "no clone ever writes the golden RAM file");
        _log.Messages(4109).ShouldBeEmpty();
        _log.Messages(4112).ShouldBeEmpty("the golden VM was saved with sshd listening, a read-only key directory and ed25519 alone offered");
    }

    [Fact]
    public async Task SharedClone_StartsWithoutTheKernel_AndAfterARebootBootsItsOwnDisk_KeepingItsNameKeyAndFiles()
    {
        var (provider, pool) = Provider("reboot");
        var vm = await provider.CreateVmAsync(pool, "rbt-a", CancellationToken.None).DefaultTimeout(CallTimeout);

        // The guest's disk boots on its own, so the clone's QEMU holds no copy of the kernel and initrd.
        var pid = Pid("reboot", "rbt-a");
        var arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
        arguments.ShouldNotContain("-kernel");
        arguments.ShouldNotContain("-initrd");
        Directory.EnumerateFiles(environment.SavedStateDirectory, "disk-boots", SearchOption.AllDirectories).ShouldNotBeEmpty();
        BootedFrom("reboot", "rbt-a").ShouldBe("shared-state");

        await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "echo kept > /root/mine; sync");
        var bootId = await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "cat /proc/sys/kernel/random/boot_id");
        await Ssh.RunAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "(sleep 1; reboot) >/dev/null 2>&1 &");

        // The same QEMU resets, its BIOS finds no kernel to load and boots the disk (syslinux, root on partition 2).
        await AsyncTestHelpers.WaitUntilAsync(
            async () => await Ssh.RunAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "cat /proc/sys/kernel/random/boot_id") is { ExitCode: 0 } after
                && after.Output != bootId,
            "the clone boots again from its own disk",
            TimeSpan.FromSeconds(120));
        Pid("reboot", "rbt-a").ShouldBe(pid);
        (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "hostname; cat /root/mine; grep ' / ' /proc/mounts | cut -d' ' -f1"))
            .ShouldBe("rbt-a\nkept\n/dev/vda2");
        (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "cat /proc/cmdline")).ShouldNotContain("vm.hostname");
        (await Ssh.ScanHostKeysAsync(vm.Ip!, vm.SshPort!.Value)).ShouldBe([("ssh-ed25519", vm.HostKeyFingerprint!)], "the same host key, from its disk");
    }

    [Fact]
    public async Task PoolWithKernelArguments_ClonesKeepTheKernel_SoARebootKeepsThem()
    {
        var provider = new QemuProvider("qemu", environment.ProviderOptions(_runDir), TimeProvider.System, _log);
        var plain = environment.Pool("append");
        var pool = plain with { Settings = new Dictionary<string, object?>(plain.Settings) { ["kernel_append"] = "vmpooler.test=1" } };
        _created.Add((provider, pool));

        var vm = await provider.CreateVmAsync(pool, "ap-a", CancellationToken.None).DefaultTimeout(CallTimeout);

        File.ReadAllText($"/proc/{Pid("append", "ap-a")}/cmdline").Split('\0').ShouldContain("-kernel");
        BootedFrom("append", "ap-a").ShouldBe("shared-state");
        (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "cat /proc/cmdline")).ShouldContain("vmpooler.test=1");
    }

    [Fact]
    public async Task DiskWhoseFirstSectorCannotBeRead_ClonesKeepTheKernel_AndTheLogSaysWhy()
    {
        // Its own saved states, built with a qemu-img that cannot read the golden disk (every other command works).
        var qemuImg = Path.Combine(environment.NewRunDirectory("tools"), "qemu-img-without-dd");
        await File.WriteAllTextAsync(qemuImg, "#!/bin/sh\n[ \"$1\" = dd ] && { echo 'dd: cannot read' >&2; exit 1; }\nexec qemu-img \"$@\"\n");
        File.SetUnixFileMode(qemuImg, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (provider, pool, stateDir) = ProviderWithOwnStates("nodd", options => options with { QemuImgBinary = qemuImg });

        var vm = await provider.CreateVmAsync(pool, "nd-a", CancellationToken.None).DefaultTimeout(CallTimeout);

        _log.Messages(4114).ShouldHaveSingleItem().ShouldContain("dd: cannot read");
        Directory.EnumerateFiles(stateDir, "disk-boots", SearchOption.AllDirectories).ShouldBeEmpty();
        File.ReadAllText($"/proc/{Pid("nodd", "nd-a")}/cmdline").Split('\0').ShouldContain("-kernel");
        BootedFrom("nodd", "nd-a").ShouldBe("shared-state");
        (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "hostname")).ShouldBe("nd-a");
    }

    [Fact]
    public async Task CopyMode_ClonesCopyTheRam_AndMapNoGoldenFile()
    {
        var (provider, pool) = Provider("copy", savedState: "copy");
        var beforeIdentity = QemuEnvironment.WatchSshBeforeIdentity(provider);

        var vm = await provider.CreateVmAsync(pool, "cp-a", CancellationToken.None).DefaultTimeout(CallTimeout);

        beforeIdentity.ShouldHaveSingleItem().Keys.ShouldBeEmpty("no host key before the clone's own");

        BootedFrom("copy", "cp-a").ShouldBe("copied-state");
        QemuEnvironment.GoldenRamOf(Pid("copy", "cp-a")).ShouldBeNull();
        (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "hostname")).ShouldBe("cp-a");
        var key = await Ssh.ScanHostKeyAsync(vm.Ip!, vm.SshPort!.Value);
        vm.HostKeyFingerprint.ShouldBe(key.Fingerprint);
        var knownHosts = Path.Combine(_runDir, "known_hosts_cp");
        await File.WriteAllTextAsync(knownHosts, key.KnownHostsLine + "\n");
        (await Ssh.RunStrictAsync(environment.Key, knownHosts, vm.Ip!, vm.SshPort!.Value, "hostname")).Output.ShouldBe("cp-a");
    }

    [Fact]
    public async Task RamFileMissingOrWritable_TheCloneCopiesTheRamInstead_AndSaysWhy()
    {
        var (provider, pool) = Provider("fallback");
        await provider.CreateVmAsync(pool, "fb-0", CancellationToken.None).DefaultTimeout(CallTimeout);
        var ram = QemuEnvironment.GoldenRamOf(Pid("fallback", "fb-0")).ShouldNotBeNull().Path;
        await provider.DestroyVmAsync(pool, "fb-0", CancellationToken.None).DefaultTimeout(CallTimeout);

        File.Move(ram, ram + ".away");
        try
        {
            await provider.CreateVmAsync(pool, "fb-missing", CancellationToken.None).DefaultTimeout(CallTimeout);
        }
        finally
        {
            File.Move(ram + ".away", ram);
        }

        BootedFrom("fallback", "fb-missing").ShouldBe("copied-state");
        _log.Messages(4109).ShouldHaveSingleItem().ShouldContain("cannot be read");

        File.SetUnixFileMode(ram, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        try
        {
            await provider.CreateVmAsync(pool, "fb-writable", CancellationToken.None).DefaultTimeout(CallTimeout);
        }
        finally
        {
            File.SetUnixFileMode(ram, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        BootedFrom("fallback", "fb-writable").ShouldBe("copied-state");
        _log.Messages(4109).Count.ShouldBe(2);
        _log.Messages(4109)[1].ShouldContain("is writable");
        var vm = await provider.GetVmAsync(pool, "fb-writable", CancellationToken.None).DefaultTimeout();
        (await Ssh.OutputAsync(environment.Key, vm!.Ip!, vm.SshPort!.Value, "hostname")).ShouldBe("fb-writable");
    }

    [Fact]
    public async Task GuestWithoutTheIdentityAgent_ClonesGetTheirIdentityThroughTheShell()
    {
        // Its own saved states: a golden VM saved without the agent waiting (as a guest of an earlier build is).
        var (provider, pool, stateDir) = ProviderWithOwnStates("noagent");
        provider.IdentityAgent = "/usr/sbin/no-such-agent";

        var vm = await provider.CreateVmAsync(pool, "na-a", CancellationToken.None).DefaultTimeout(CallTimeout);

        Directory.EnumerateFiles(stateDir, "identity-agent", SearchOption.AllDirectories).ShouldBeEmpty();
        BootedFrom("noagent", "na-a").ShouldBe("shared-state");
        (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "hostname; cat /etc/hostname")).ShouldBe("na-a\nna-a");
        vm.HostKeyFingerprint.ShouldBe((await Ssh.ScanHostKeyAsync(vm.Ip!, vm.SshPort.Value)).Fingerprint);
        var console = await File.ReadAllTextAsync(Path.Combine(_runDir, "noagent", "na-a", "console.log"));
        console.ShouldNotContain("VMPOOLER-IDENTITY");
        console.ShouldNotContain("printf", customMessage: "the private host key must not reach console.log");
    }

    [Fact]
    public async Task QemuWithoutTheCapability_BuildsACopyOnlyState_AndClonesCopyTheRam()
    {
        // Its own saved states: this build differs from the run's shared one.
        var (provider, pool, stateDir) = ProviderWithOwnStates("nocap");
        provider.IgnoreSharedCapability = "x-no-such-capability";

        var vm = await provider.CreateVmAsync(pool, "nc-a", CancellationToken.None).DefaultTimeout(CallTimeout);

        _log.Messages(4110).ShouldHaveSingleItem();
        _log.Messages(4109).ShouldHaveSingleItem().ShouldContain("x-ignore-shared");
        BootedFrom("nocap", "nc-a").ShouldBe("copied-state");
        Directory.EnumerateFiles(stateDir, "ram", SearchOption.AllDirectories).ShouldBeEmpty("a copy-only state keeps no RAM file");
        (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "hostname")).ShouldBe("nc-a");
    }

    [Fact]
    public async Task RebuiltState_GetsANewRamFile_TheOldOneLivesUntilItsLastCloneGoes()
    {
        // A template of its own, so that touching it (a rebuilt guest image) gives a new saved state.
        var template = environment.NewRunDirectory("tpl");
        foreach (var file in new[] { "vmlinuz", "initrd.img", "base.qcow2" })
        {
            File.Copy(Path.Combine(environment.GuestDirectory, file), Path.Combine(template, file));
        }

        var stateDir = environment.NewRunDirectory("rb");
        var provider = new QemuProvider("qemu", environment.ProviderOptions(_runDir) with { SavedStateDir = stateDir }, TimeProvider.System, _log);
        var pool = environment.Pool("rebuild") with { Template = template };
        _created.Add((provider, pool));
        var old = await provider.CreateVmAsync(pool, "rb-old", CancellationToken.None).DefaultTimeout(CallTimeout);
        var oldRam = QemuEnvironment.GoldenRamOf(Pid("rebuild", "rb-old")).ShouldNotBeNull().Path;

        File.SetLastWriteTimeUtc(Path.Combine(template, "base.qcow2"), DateTime.UnixEpoch.AddDays(20000));
        var fresh = await provider.CreateVmAsync(pool, "rb-new", CancellationToken.None).DefaultTimeout(CallTimeout);

        var newRam = QemuEnvironment.GoldenRamOf(Pid("rebuild", "rb-new")).ShouldNotBeNull().Path;
        newRam.ShouldNotBe(oldRam);
        File.Exists(oldRam).ShouldBeFalse("the replaced state's files are removed");
        QemuEnvironment.GoldenRamOf(Pid("rebuild", "rb-old")).ShouldNotBeNull().Path.ShouldBe(oldRam + " (deleted)", "the old clone still maps it");
        _log.Messages(4111).ShouldHaveSingleItem();
        (await Ssh.OutputAsync(environment.Key, old.Ip!, old.SshPort!.Value, "hostname")).ShouldBe("rb-old");
        (await Ssh.OutputAsync(environment.Key, fresh.Ip!, fresh.SshPort!.Value, "hostname")).ShouldBe("rb-new");

        await provider.DestroyVmAsync(pool, "rb-old", CancellationToken.None).DefaultTimeout(CallTimeout);
        ProcessesMapping(oldRam).ShouldBeEmpty("the old RAM file went with its last clone");
    }

    private (QemuProvider Provider, PoolOptions Pool) Provider(string poolName, string savedState = "shared")
    {
        var provider = new QemuProvider("qemu", environment.ProviderOptions(_runDir), TimeProvider.System, _log);
        var pool = environment.Pool(poolName, savedState);
        _created.Add((provider, pool));
        return (provider, pool);
    }

    /// <summary>
    /// A provider whose saved states are its own (in a directory named after <paramref name="poolName"/>), for a test
    /// whose state is built differently from the run's shared one, and its pool.
    /// </summary>
    private (QemuProvider Provider, PoolOptions Pool, string StateDir) ProviderWithOwnStates(
        string poolName, Func<QemuProviderOptions, QemuProviderOptions>? options = null)
    {
        var stateDir = environment.NewRunDirectory(poolName);
        var settings = environment.ProviderOptions(_runDir) with { SavedStateDir = stateDir };
        var provider = new QemuProvider("qemu", options is null ? settings : options(settings), TimeProvider.System, _log);
        var pool = environment.Pool(poolName);
        _created.Add((provider, pool));
        return (provider, pool, stateDir);
    }

    private int Pid(string pool, string vm)
        => int.Parse(File.ReadAllText(Path.Combine(_runDir, pool, vm, "qemu.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private string BootedFrom(string pool, string vm)
        => System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_runDir, pool, vm, "vm.json"))).RootElement.GetProperty("booted_from").GetString()!;

    private IReadOnlyList<int> ProcessesMapping(string file)
        => [.. environment.QemuProcesses(_runDir).Where(pid => QemuEnvironment.GoldenRamOf(pid) is { } ram && ram.Path.StartsWith(file, StringComparison.Ordinal))];
}
