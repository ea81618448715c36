using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VmPooler.Providers.Qemu;

/// <summary>
/// Each VM's own identity, given over its serial console before it counts as started: its hostname, the current time,
/// fresh host entropy (a restored clone's RNG state is the golden VM's), and its own SSH host key, made on the host;
/// the key's fingerprint is reported so clients can pin it. The guest of guest/build-guest.sh has no host key of its
/// own and cannot make one: its sshd runs from boot (so a restored clone has it listening already) and reads the key
/// per connection from a read-only directory holding only a symlink to where the host writes it, so no VM ever serves
/// a key another VM has or one the host did not make.
/// </summary>
public sealed partial class QemuProvider
{
    /// <summary>Where the guest's sshd (dropbear, see guest/build-guest.sh) reads its host key.</summary>
    private const string GuestHostKey = "/etc/dropbear/dropbear_ed25519_host_key";

    /// <summary>
    /// The PID of the sleep the sshd of a guest built by an earlier guest/build-guest.sh waits on until it has a host
    /// key: killing it starts sshd, with the key then in place.
    /// </summary>
    private const string GuestSshdPid = "/run/vmpooler-sshd.pid";

    /// <summary>
    /// Shell that prints <c>sshd-listening</c> when the guest's sshd listens on port 22 (<c>/proc/net/tcp*</c>: local
    /// port 0016, state 0A).
    /// </summary>
    private const string SshdListening = "grep -qE '^ *[0-9]+: [0-9A-F]+:0016 [0-9A-F]+:0000 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null";

    /// <summary>
    /// The names of the host key types other than ed25519 (RSA, DSS, ECDSA), as found in a dropbear binary built with
    /// them. Dropbear -R offers every type it is built with, key or not; the guest's is built with ed25519 alone.
    /// </summary>
    private const string OtherHostKeyTypes = "ssh-rsa|ssh-dss|ecdsa-sha2-nistp";

    /// <summary>
    /// The console probe used while waiting for a guest's shell. It turns the console's echo off: the identity line
    /// carries the private host key, which must not reach <c>console.log</c> (QEMU logs what the guest sends, echo included).
    /// </summary>
    private const string QuietConsole = "stty -echo";

    /// <summary>
    /// The identity agent of guest/build-guest.sh (a static program): started on the golden VM's console just before it
    /// is saved, it waits there in every clone for one request line and answers with <see cref="AgentAnswer"/>. For
    /// tests, a path the guest does not have acts as a guest of an earlier build.
    /// </summary>
    internal string IdentityAgent { get; set; } = "/usr/sbin/vmpooler-identity";

    /// <summary>What the identity agent prints first (waiting) and before its answer to a request.</summary>
    private const string AgentAnswer = "VMPOOLER-IDENTITY ";

    /// <summary>
    /// Renames the guest, sets its clock, stirs its entropy and installs its own host key (one made ahead, used once);
    /// returns the key's fingerprint. <paramref name="agentWaiting"/>: the guest's identity agent waits on the console
    /// (a clone of a golden VM saved so), else a shell line does the same.
    /// </summary>
    internal async Task<string> GiveIdentityAsync(VmFiles files, string vmName, bool agentWaiting, CancellationToken cancellationToken)
    {
        var key = await _hostKeys.TakeAsync(cancellationToken);
        var answer = agentWaiting
            ? await GiveIdentityToAgentAsync(files, vmName, key, cancellationToken)
            : await GiveIdentityThroughShellAsync(files, vmName, key, cancellationToken);
        if (!answer.Contains(Convert.ToHexStringLower(SHA256.HashData(key.File)), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the guest did not install its own SSH host key: {(answer.Length > 200 ? answer[..200] : answer)}");
        }

        return key.Fingerprint;
    }

    /// <summary>
    /// One request line to the waiting agent (hostname, time in ms, 64 bytes of host entropy, the key file, all but the
    /// name in hex): it does each step with a system call, reads the key file back and answers its SHA-256, then turns
    /// the console's echo back on and exits (the console is the root shell again). The request carries a nonce that the
    /// answer repeats, so nothing printed earlier can pass for it.
    /// </summary>
    private async Task<string> GiveIdentityToAgentAsync(VmFiles files, string vmName, DropbearHostKey key, CancellationToken cancellationToken)
    {
        var nonce = Guid.NewGuid().ToString("N")[..10];
        var request = $"{AgentAnswer}{nonce} {vmName} {_time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)} "
            + $"{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(64))} {Convert.ToHexStringLower(key.File)}";
        var answer = await GuestProbe.ExchangeOnConsoleAsync(files.Serial, request, AgentAnswer + nonce + " ", _options.BootTimeout, _time, cancellationToken);
        return answer.StartsWith("ok ", StringComparison.Ordinal) ? answer : throw new InvalidOperationException($"the guest's identity agent failed: {answer}");
    }

    /// <summary>The identity as one shell line on the console, for guests without the agent (or not saved with it waiting).</summary>
    private async Task<string> GiveIdentityThroughShellAsync(VmFiles files, string vmName, DropbearHostKey key, CancellationToken cancellationToken)
    {
        var epoch = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var entropy = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(64));

        // The console does not echo (QuietConsole ran before: in the golden VM, or at a cold boot's first probe), so
        // the key stays out of console.log; the shell turns the echo back on after the end marker. The key is written
        // by the shell's own printf (through the symlink, to where sshd reads it at its next connection); sha256sum
        // proves it arrived whole. Guests of an earlier guest/build-guest.sh: one whose sshd waits on a sleep has it
        // killed (sshd starts then), one with a key file of its own (not a symlink) restarts its running sshd.
        var commands = $"echo {vmName} > /proc/sys/kernel/hostname; echo {vmName} > /etc/hostname; date -s @{epoch} >/dev/null; echo {entropy} > /dev/urandom; "
            + $"umask 077; printf '{OctalEscaped(key.File)}' > {GuestHostKey} && sha256sum {GuestHostKey}; umask 022; "
            + $"if read p 2>/dev/null < {GuestSshdPid}; then kill $p; elif [ ! -L {GuestHostKey} ]; then killall dropbear 2>/dev/null; fi";
        return await GuestProbe.RunOnConsoleAsync(files.Serial, commands, _options.BootTimeout, _time, cancellationToken, after: "stty echo");
    }

    /// <summary>
    /// Gives the VM its identity while waiting for its SSH banner: the sshd of guest/build-guest.sh listens already
    /// (restored, or started at boot) and sends its banner before any key exchange, so the two overlap (that of an
    /// earlier build starts only once it has its key: the probes go on until then). Returns the key's fingerprint,
    /// how long the identity took and how long until both were done.
    /// </summary>
    private async Task<(string Fingerprint, TimeSpan Identity, TimeSpan Ssh)> GiveIdentityAndAwaitSshAsync(
        VmFiles files, string vmName, string address, int port, bool agentWaiting, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        using var stopProbing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ssh = WaitForSshAsync(files, address, port, _options.BootTimeout, stopProbing.Token);
        try
        {
            var fingerprint = await GiveIdentityAsync(files, vmName, agentWaiting, cancellationToken);
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
    /// unable to serve any key until it is given one: either listening already, with a read-only key directory and a
    /// dropbear that offers no host key type but ed25519 (guest/build-guest.sh now: a clone only needs its key file),
    /// or waiting on a sleep for its key (an earlier build: a clone starts sshd). ServesOnlyGivenKey is false when the
    /// guest could serve a key of its image or one it makes itself, or offers host key types the host makes no key for.
    /// A guest of the first shape that has the identity agent gets it started last, waiting on the console
    /// (AgentWaiting), so its clones take their identity in one read.
    /// </summary>
    private async Task<(bool ServesOnlyGivenKey, bool AgentWaiting)> PrepareGoldenAsync(VmFiles files, CancellationToken cancellationToken)
    {
        await WaitForConsoleAsync(files, _options.BootTimeout, cancellationToken);

        // sshd starts with the console (both by init): it may take a moment to listen, or to write down its wait (5 s
        // at most here). A clone of a golden VM saved with sshd listening needs no sshd start of its own.
        const string Probe = "/etc/dropbear/.vmpooler-write-probe";
        var output = await GuestProbe.RunOnConsoleAsync(
            files.Serial,
            $"sync; i=0; while [ ! -s {GuestSshdPid} ] && ! {SshdListening} && [ $i -lt 100 ]; do usleep 50000; i=$((i+1)); done; "
                + $"[ -e {GuestHostKey} ] && echo has-key; {SshdListening} && echo sshd-listening; "
                + $"[ -L {GuestHostKey} ] && ! ( : > {Probe} ) 2>/dev/null && echo key-dir-read-only; rm -f {Probe} 2>/dev/null; "
                + $"for p in $(pidof dropbear); do grep -qE '{OtherHostKeyTypes}' /proc/$p/exe && echo other-key-types; done; "
                + $"[ -x {IdentityAgent} ] && echo identity-agent; cat /proc/$(cat {GuestSshdPid} 2>/dev/null)/comm 2>/dev/null",
            _options.BootTimeout,
            _time,
            cancellationToken);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        var listensWithoutKeys = lines.Contains("sshd-listening") && lines.Contains("key-dir-read-only") && !lines.Contains("other-key-types");
        var servesOnlyGivenKey = !lines.Contains("has-key") && (listensWithoutKeys || lines.Contains("sleep"));
        if (!servesOnlyGivenKey || !listensWithoutKeys || !lines.Contains("identity-agent"))
        {
            return (servesOnlyGivenKey, false);
        }

        // The last thing on the console before the save: the agent says it waits, then reads (what a clone sends
        // before its read is buffered by the tty).
        await GuestProbe.ExchangeOnConsoleAsync(files.Serial, IdentityAgent, AgentAnswer + "waiting", _options.BootTimeout, _time, cancellationToken);
        return (true, true);
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
