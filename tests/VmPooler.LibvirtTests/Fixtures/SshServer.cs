using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VmPooler.LibvirtTests.Fixtures;

/// <summary>
/// An OpenSSH server (openssh-server) on a free loopback port that lets root in with a key made for it, so libvirt's
/// <c>qemu+ssh://</c> transport can be tested against this machine as a "remote" host. It uses its own host key,
/// authorized_keys and PID file, and is stopped when the tests end.
/// </summary>
public sealed class SshServer : IAsyncLifetime
{
    private readonly string _directory = Path.Combine("/tmp", "vmp-sshd-" + Guid.NewGuid().ToString("N")[..6]);
    private Process? _sshd;

    public int Port { get; private set; }

    /// <summary>
    /// The libvirt URI of the system daemon through this server: libvirt runs its ssh client (wrapped so it neither
    /// asks about nor records the throwaway host key) and virt-ssh-helper on the far side.
    /// </summary>
    public string LibvirtUri => $"qemu+ssh://root@127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/system?keyfile={_directory}/id_ed25519&no_tty=1&command={_directory}/ssh";

    public async Task InitializeAsync()
    {
        File.Exists("/usr/sbin/sshd").ShouldBeTrue("/usr/sbin/sshd is missing: install the Debian package openssh-server (.ci/run does)");
        Directory.CreateDirectory(_directory);
        Directory.CreateDirectory("/run/sshd"); // sshd's privilege separation directory
        await Commands.CheckAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(_directory, "host_ed25519"));
        await Commands.CheckAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(_directory, "id_ed25519"));
        File.Copy(Path.Combine(_directory, "id_ed25519.pub"), Path.Combine(_directory, "authorized_keys"));
        var wrapper = Path.Combine(_directory, "ssh");
        await File.WriteAllTextAsync(wrapper, "#!/bin/sh\nexec ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR \"$@\"\n");
        await Commands.CheckAsync("chmod", "700", wrapper);

        Port = FreePort();
        var config = Path.Combine(_directory, "sshd_config");
        await File.WriteAllTextAsync(config, $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {_directory}/host_ed25519
            AuthorizedKeysFile {_directory}/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PidFile {_directory}/sshd.pid
            """);
        _sshd = Process.Start(new ProcessStartInfo("/usr/sbin/sshd", ["-D", "-e", "-f", config]) { UseShellExecute = false, RedirectStandardError = true })!;
        _sshd.ErrorDataReceived += (_, _) => { };
        _sshd.BeginErrorReadLine();
        var watch = Stopwatch.StartNew();
        while (!await AnswersAsync())
        {
            _sshd.HasExited.ShouldBeFalse("sshd exited at start");
            (watch.Elapsed < TimeSpan.FromSeconds(30)).ShouldBeTrue("sshd listens within 30 s");
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }
    }

    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var buffer = new byte[4];
            return await client.GetStream().ReadAsync(buffer) == 4;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        if (_sshd is { HasExited: false })
        {
            _sshd.Kill(entireProcessTree: true);
            await _sshd.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _sshd?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
