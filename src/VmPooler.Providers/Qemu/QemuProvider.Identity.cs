using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VmPooler.Providers.Qemu;

/// <summary>
/// Each VM's own identity, given over its serial console before it counts as started: its hostname, the current time,
/// fresh host entropy (a restored clone's RNG state is the golden VM's), and its own SSH host key, made on the host;
/// the key's fingerprint is reported so clients can pin it. The guest of guest/build-guest.sh has no host key of its
/// own: its sshd waits for the one the host gives it, so no VM ever serves a key another VM has.
/// </summary>
public sealed partial class QemuProvider
{
    /// <summary>Where the guest's sshd (dropbear, see guest/build-guest.sh) reads its host key.</summary>
    private const string GuestHostKey = "/etc/dropbear/dropbear_ed25519_host_key";

    /// <summary>
    /// The PID of the sleep the guest's sshd waits on until it has a host key (guest/build-guest.sh): killing it starts
    /// sshd, with the key then in place.
    /// </summary>
    private const string GuestSshdPid = "/run/vmpooler-sshd.pid";

    /// <summary>
    /// The console probe used while waiting for a guest's shell. It turns the console's echo off: the identity line
    /// carries the private host key, which must not reach <c>console.log</c> (QEMU logs what the guest sends, echo included).
    /// </summary>
    private const string QuietConsole = "stty -echo";

    /// <summary>Renames the guest, sets its clock, stirs its entropy, installs its own host key and starts sshd with it; returns the key's fingerprint.</summary>
    private async Task<string> GiveIdentityAsync(VmFiles files, string vmName, CancellationToken cancellationToken)
    {
        var key = await DropbearHostKey.GenerateAsync(_options.DropbearKeyBinary, files.Directory, StartTimeout, _time, cancellationToken);
        var epoch = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var entropy = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(64));

        // The console does not echo (QuietConsole ran before: in the golden VM, or at a cold boot's first probe), so
        // the key stays out of console.log; the shell turns the echo back on after the end marker. The key is written
        // by the shell's own printf; sha256sum proves it arrived whole. A guest without the PID file (built by an
        // older guest/build-guest.sh) restarts its running sshd instead.
        var commands = $"echo {vmName} > /proc/sys/kernel/hostname; echo {vmName} > /etc/hostname; date -s @{epoch} >/dev/null; echo {entropy} > /dev/urandom; "
            + $"umask 077; printf '{OctalEscaped(key.File)}' > {GuestHostKey} && sha256sum {GuestHostKey}; umask 022; "
            + $"if read p 2>/dev/null < {GuestSshdPid}; then kill $p; else killall dropbear 2>/dev/null; fi";
        var output = await GuestProbe.RunOnConsoleAsync(files.Serial, commands, _options.BootTimeout, _time, cancellationToken, after: "stty echo");
        if (!output.Contains(Convert.ToHexStringLower(SHA256.HashData(key.File)), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the guest did not install its own SSH host key: {(output.Length > 200 ? output[..200] : output)}");
        }

        return key.Fingerprint;
    }

    /// <summary>
    /// Gives the VM its identity while probing for its SSH banner, so the first probe after sshd starts with the key
    /// answers (not one begun only after the identity). Returns the key's fingerprint, how long the identity took and
    /// how long until both were done.
    /// </summary>
    private async Task<(string Fingerprint, TimeSpan Identity, TimeSpan Ssh)> GiveIdentityAndAwaitSshAsync(
        VmFiles files, string vmName, string address, int port, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        using var stopProbing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ssh = WaitForSshAsync(files, address, port, _options.BootTimeout, stopProbing.Token);
        try
        {
            var fingerprint = await GiveIdentityAsync(files, vmName, cancellationToken);
            var identity = _time.GetElapsedTime(started);
            await ssh;
            return (fingerprint, identity, _time.GetElapsedTime(started));
        }
        finally
        {
            // When the identity failed, the probes stop with it (the caller stops the VM).
            await stopProbing.CancelAsync();
            await ssh.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Waits until the guest's serial console answers (a shell reads it only once the guest has booted; what arrives
    /// before is lost, so the probe is sent again), turning its echo off. Fails when QEMU exits or the time runs out.
    /// </summary>
    private async Task WaitForConsoleAsync(VmFiles files, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var pid = HostProcesses.ReadPid(files.Pid) ?? 0;
        var attempt = TimeSpan.FromSeconds(2);
        while (true)
        {
            if (!HostProcesses.IsAlive(pid, files.Directory))
            {
                throw new InvalidOperationException($"qemu exited while booting: {HostProcesses.Tail(files.Errors, 4)} {HostProcesses.Tail(files.Log, 4)} {HostProcesses.Tail(files.Console, 4)}".Trim());
            }

            try
            {
                await GuestProbe.RunOnConsoleAsync(files.Serial, QuietConsole, attempt, _time, cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is TimeoutException or System.Net.Sockets.SocketException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                if (_time.GetElapsedTime(started) > timeout)
                {
                    throw new TimeoutException($"the guest's serial console did not answer within {timeout.TotalSeconds:0} s ({ex.Message}); console: {HostProcesses.Tail(files.Console, 4)}");
                }
            }

            // A slow (loaded) guest gets longer for each probe, so it is not flooded with probes it answers late.
            attempt = TimeSpan.FromSeconds(Math.Min(attempt.TotalSeconds * 2, 16));
        }
    }

    /// <summary>
    /// Makes the golden VM ready to be saved: its console quiet (clones inherit that), no host key in it, and its sshd
    /// waiting for a key (so every clone's starts only with its own). False when the guest serves SSH with a key of its
    /// image (built by an older guest/build-guest.sh): its clones would serve that key until given their own.
    /// </summary>
    private async Task<bool> PrepareGoldenAsync(VmFiles files, CancellationToken cancellationToken)
    {
        await WaitForConsoleAsync(files, _options.BootTimeout, cancellationToken);

        // sshd starts with the console (both by init): it may take a moment to write down its wait (5 s at most here).
        var output = await GuestProbe.RunOnConsoleAsync(
            files.Serial,
            $"sync; i=0; while [ ! -s {GuestSshdPid} ] && [ $i -lt 100 ]; do usleep 50000; i=$((i+1)); done; "
                + $"ls {GuestHostKey} 2>/dev/null; cat /proc/$(cat {GuestSshdPid} 2>/dev/null)/comm 2>/dev/null",
            _options.BootTimeout,
            _time,
            cancellationToken);
        return !output.Contains(GuestHostKey, StringComparison.Ordinal) && output.Split('\n').Contains("sleep");
    }

    /// <summary><paramref name="bytes"/> as octal escapes for the shell's <c>printf</c> (any byte, NUL included, and nothing the shell or the tty interprets).</summary>
    internal static string OctalEscaped(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length * 4);
        foreach (var b in bytes)
        {
            text.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
        }

        return text.ToString();
    }
}
