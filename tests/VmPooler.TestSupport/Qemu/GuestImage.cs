using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace VmPooler.QemuTests.Fixtures;

/// <summary>
/// The tiny test guest, built once with the repository's <c>guest/build-guest.sh</c> into a cache directory keyed by the
/// script's content (<c>/var/tmp/vmpooler-guest-HASH</c>; <c>VMPOOLER_TEST_GUEST</c> overrides it), so later runs and
/// other test processes reuse it. A missing host package fails with the package's name (the script installs what is
/// missing when run as root, which is how CI gets it; <c>.ci/run</c> installs them up front).
/// </summary>
public static class GuestImage
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _directory;

    /// <summary>The guest directory (vmlinuz, initrd.img, base.qcow2, id_ed25519), building it first when needed.</summary>
    public static async Task<string> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_directory is not null)
            {
                return _directory;
            }

            var script = FindScript();
            var directory = Environment.GetEnvironmentVariable("VMPOOLER_TEST_GUEST") is { Length: > 0 } configured
                ? configured
                : $"/var/tmp/vmpooler-guest-{Hash(script)}";
            if (!IsComplete(directory))
            {
                await BuildAsync(script, directory);
            }

            _directory = directory;
            return directory;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>The client key whose public half is root's authorized key in the guest.</summary>
    public static string KeyOf(string guestDirectory) => Path.Combine(guestDirectory, "id_ed25519");

    private static bool IsComplete(string directory)
        => new[] { "vmlinuz", "initrd.img", "base.qcow2", "id_ed25519", "guest.env" }.All(f => File.Exists(Path.Combine(directory, f)));

    private static async Task BuildAsync(string script, string directory)
    {
        // One builder at a time across processes (another test run may be building the same guest).
        Directory.CreateDirectory(Path.GetDirectoryName(directory)!);
        await using var lockFile = await LockAsync(directory + ".lock");
        if (IsComplete(directory))
        {
            return;
        }

        var startInfo = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(script);
        startInfo.ArgumentList.Add(directory);
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        if (process.ExitCode != 0 || !IsComplete(directory))
        {
            throw new InvalidOperationException(
                $"guest/build-guest.sh {directory} failed (exit {process.ExitCode}). It needs the Debian packages qemu-system-x86 qemu-utils "
                + $"busybox-static dropbear-bin cpio e2fsprogs openssh-client, and curl gcc make libc6-dev patch bzip2 xz-utils libtomcrypt-dev "
                + $"libtommath-dev to build the guest's dropbear from Debian's source package, downloaded from deb.debian.org "
                + $"(run it as root to install them).\n{await output}\n{await error}");
        }
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (deadline.Elapsed < TimeSpan.FromMinutes(10))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
            }
        }
    }

    /// <summary><c>guest/build-guest.sh</c> of this repository: walks up from the test assembly to the repository root.</summary>
    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "guest", "build-guest.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"guest/build-guest.sh not found above {AppContext.BaseDirectory}");
    }

    private static string Hash(string script)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(File.ReadAllText(script))))[..12];
}
