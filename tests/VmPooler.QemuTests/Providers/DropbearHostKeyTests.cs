using VmPooler.Providers.Qemu;
using VmPooler.QemuTests.Fixtures;

namespace VmPooler.QemuTests.Providers;

/// <summary>
/// The host-made SSH host keys of the VMs, against the real tools: <c>dropbearkey</c> makes them, <c>ssh-keygen</c>
/// agrees on the fingerprint, busybox's <c>printf</c> (the guest's shell) writes them back byte for byte, and the guest
/// image carries no host key of its own.
/// </summary>
[Collection(QemuCollection.Name)]
public class DropbearHostKeyTests(QemuEnvironment environment) : IDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);
    private readonly string _directory = environment.NewRunDirectory("hk");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task GenerateAsync_TwoKeys_DifferAndHaveTheFingerprintsSshKeygenShows_AndLeaveNoFile()
    {
        var first = await DropbearHostKey.GenerateAsync("dropbearkey", _directory, ToolTimeout, TimeProvider.System, CancellationToken.None);
        var second = await DropbearHostKey.GenerateAsync("dropbearkey", _directory, ToolTimeout, TimeProvider.System, CancellationToken.None);

        Directory.EnumerateFileSystemEntries(_directory).ShouldBeEmpty("the private key is read back and its file removed");
        first.File.Length.ShouldBe(83);
        first.File.ShouldNotBe(second.File);
        first.Fingerprint.ShouldNotBe(second.Fingerprint);
        first.Fingerprint.ShouldBe(await SshKeygenFingerprintAsync(first));
        second.Fingerprint.ShouldBe(await SshKeygenFingerprintAsync(second));
    }

    [Fact]
    public void Parse_NotADropbearEd25519Key_Throws()
    {
        Should.Throw<FormatException>(() => DropbearHostKey.Parse([]));
        Should.Throw<FormatException>(() => DropbearHostKey.Parse([0, 0, 0, 11, (byte)'s', (byte)'s', (byte)'h']));
        var rsaLike = new byte[83];
        rsaLike[3] = 11;
        "ssh-rsa0000"u8.CopyTo(rsaLike.AsSpan(4));
        rsaLike[18] = 64;
        Should.Throw<FormatException>(() => DropbearHostKey.Parse(rsaLike));
    }

    [Fact]
    public async Task OctalEscaped_WrittenByBusyboxPrintf_IsTheSameBytes()
    {
        var key = await DropbearHostKey.GenerateAsync("dropbearkey", _directory, ToolTimeout, TimeProvider.System, CancellationToken.None);
        byte[] every = [.. Enumerable.Range(0, 256).Select(b => (byte)b), .. key.File];
        var file = Path.Combine(_directory, "printed");

        var result = await Tool("busybox", "sh", "-c", $"printf '{QemuProvider.OctalEscaped(every)}' > {file}");

        result.ExitCode.ShouldBe(0, result.Describe());
        (await File.ReadAllBytesAsync(file)).ShouldBe(every);
        DropbearHostKey.Parse(key.File).Fingerprint.ShouldBe(key.Fingerprint);
    }

    [Fact]
    public async Task GuestImage_CarriesNoSshHostKey_SoNoVmCanServeOneItShares()
    {
        // The disk's root file system (partition 2, "vmroot", from 25 MiB on) and the initramfs both have an empty
        // /etc/dropbear; its boot partition holds the kernel and that same initramfs.
        var raw = Path.Combine(_directory, "base.raw");
        (await Tool("qemu-img", "convert", "-O", "raw", Path.Combine(environment.GuestDirectory, "base.qcow2"), raw)).ExitCode.ShouldBe(0);
        var disk = await Tool("debugfs", "-R", "ls -l /etc/dropbear", $"{raw}?offset={25 * 1024 * 1024}");
        disk.Output.ShouldNotContain("host_key");
        disk.Output.ShouldContain("..", customMessage: $"debugfs listed the directory: {disk.Describe()}");
        var initrd = await Tool("sh", "-c", $"gzip -dc '{Path.Combine(environment.GuestDirectory, "initrd.img")}' | cpio -t --quiet");
        initrd.ExitCode.ShouldBe(0, initrd.Describe());
        initrd.Output.Split('\n').ShouldContain("etc/dropbear");
        initrd.Output.ShouldNotContain("host_key");
    }

    private async Task<string> SshKeygenFingerprintAsync(DropbearHostKey key)
    {
        var file = Path.Combine(_directory, "key");
        await File.WriteAllBytesAsync(file, key.File);
        try
        {
            var publicKey = (await Tool("dropbearkey", "-y", "-f", file)).Output.Split('\n').Single(l => l.StartsWith("ssh-ed25519 ", StringComparison.Ordinal));
            await File.WriteAllTextAsync(file + ".pub", publicKey + "\n");
            return (await Tool("ssh-keygen", "-l", "-f", file + ".pub")).Output.Split(' ')[1];
        }
        finally
        {
            File.Delete(file);
            File.Delete(file + ".pub");
        }
    }

    private static Task<HostProcesses.Result> Tool(string tool, params string[] arguments)
        => HostProcesses.RunAsync(tool, arguments, ToolTimeout, TimeProvider.System, CancellationToken.None);
}
