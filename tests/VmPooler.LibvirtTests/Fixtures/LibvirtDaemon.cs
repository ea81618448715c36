using System.Diagnostics;
using System.Net.Sockets;

namespace VmPooler.LibvirtTests.Fixtures;

/// <summary>
/// The system libvirtd (<c>qemu:///system</c>) for the tests. When none runs, it is started as a child process (with
/// virtlogd, which its QEMU driver logs through), after <c>/var/log/libvirt</c> and, when missing, a qemu.conf are made. <see cref="StopAsync"/> stops what it started, so
/// nothing outlives the run. <see cref="KillAndRestartAsync"/> kills libvirtd with SIGKILL and starts a new one, as a
/// crash and a service restart would.
/// </summary>
public sealed class LibvirtDaemon
{
    public const string Socket = "/run/libvirt/libvirt-sock";
    private const string VirtlogdSocket = "/run/libvirt/virtlogd-sock";
    private const string QemuConf = "/etc/libvirt/qemu.conf";

    private Process? _libvirtd;
    private Process? _virtlogd;

    /// <summary>True when this fixture started libvirtd (and so stops it).</summary>
    public bool Owned => _libvirtd is not null;

    public async Task StartAsync()
    {
        foreach (var (binary, package) in new[] { ("/usr/sbin/libvirtd", "libvirt-daemon"), ("/usr/sbin/virtlogd", "libvirt-daemon"), ("/usr/bin/virsh", "libvirt-clients") })
        {
            File.Exists(binary).ShouldBeTrue($"{binary} is missing: install the Debian packages libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients ({package}); .ci/run does");
        }

        if (await AnswersAsync(Socket))
        {
            return; // a libvirtd of the machine: use it, leave it running
        }

        await PrepareAsync();
        if (!await AnswersAsync(VirtlogdSocket))
        {
            _virtlogd = Start("/usr/sbin/virtlogd");
            await WaitAsync(() => AnswersAsync(VirtlogdSocket), "virtlogd listens");
        }

        _libvirtd = Start("/usr/sbin/libvirtd");
        await WaitAsync(async () => await AnswersAsync(Socket) && (await Commands.VirshAsync("qemu:///system", "version")).ExitCode == 0, "libvirtd answers on qemu:///system");
    }

    /// <summary>Kills libvirtd (SIGKILL: no shutdown code runs; its QEMU processes keep running) and starts a new one.</summary>
    public async Task KillAndRestartAsync()
    {
        var pid = _libvirtd?.Id ?? int.Parse(File.ReadAllText("/run/libvirtd.pid").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        using (var victim = Process.GetProcessById(pid))
        {
            victim.Kill();
            await victim.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _libvirtd?.Dispose();
        File.Delete("/run/libvirtd.pid");
        _libvirtd = Start("/usr/sbin/libvirtd");
        await WaitAsync(async () => await AnswersAsync(Socket) && (await Commands.VirshAsync("qemu:///system", "version")).ExitCode == 0, "the restarted libvirtd answers");
    }

    public async Task StopAsync()
    {
        foreach (var process in new[] { _libvirtd, _virtlogd })
        {
            if (process is null || process.HasExited)
            {
                continue;
            }

            await Commands.RunAsync("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            try
            {
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                process.Kill();
            }

            process.Dispose();
        }

        _libvirtd = _virtlogd = null;
    }

    /// <summary>
    /// Without Debian's libvirt-daemon-system there is no qemu.conf, and libvirt's built-in default (QEMU as the
    /// libvirt-qemu user) needs that user and a /dev/kvm it can open: otherwise libvirt finds KVM "no longer available"
    /// and probes QEMU's capabilities again on every define and start (minutes on a loaded machine). A missing
    /// qemu.conf is written with QEMU running as root, as examples/libvirt-setup.sh does. The QEMU driver still resolves
    /// its built-in default user and group (both libvirt-qemu) before it reads qemu.conf, and fails to start without them
    /// ("Failed to parse user 'libvirt-qemu'"): missing ones are created as system accounts, as libvirt-daemon-system's
    /// installation would.
    /// </summary>
    private static async Task PrepareAsync()
    {
        Directory.CreateDirectory("/var/log/libvirt");
        if (!File.Exists(QemuConf))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(QemuConf)!);
            await File.WriteAllTextAsync(QemuConf, "# Written by the vmpooler libvirt tests (see examples/libvirt-setup.sh): QEMU runs as root.\nuser = \"root\"\ngroup = \"root\"\n");
        }

        if ((await Commands.RunAsync("getent", "group", "libvirt-qemu")).ExitCode != 0)
        {
            (await Commands.RunAsync("groupadd", "--system", "libvirt-qemu")).ExitCode.ShouldBe(0, "groupadd --system libvirt-qemu");
        }

        if ((await Commands.RunAsync("getent", "passwd", "libvirt-qemu")).ExitCode != 0)
        {
            (await Commands.RunAsync("useradd", "--system", "--gid", "libvirt-qemu", "--no-create-home", "--home-dir", "/var/lib/libvirt", "--shell", "/usr/sbin/nologin", "libvirt-qemu"))
                .ExitCode.ShouldBe(0, "useradd --system libvirt-qemu");
        }
    }

    private static Process Start(string binary)
    {
        var startInfo = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        var process = Process.Start(startInfo)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private static async Task<bool> AnswersAsync(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        using var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"timed out waiting until {what}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }
    }
}
