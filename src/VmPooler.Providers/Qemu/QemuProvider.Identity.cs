using System.Globalization;
using System.Security.Cryptography;

namespace VmPooler.Providers.Qemu;

/// <summary>
/// Each VM's own identity, given over its serial console before it counts as started: its hostname, the current time,
/// fresh host entropy (a restored clone's RNG state is the golden VM's), and its own SSH host key, generated in the
/// guest; the key's fingerprint is reported so clients can pin it.
/// </summary>
public sealed partial class QemuProvider
{
    /// <summary>Where the guest's sshd (dropbear, see guest/build-guest.sh) reads its host key.</summary>
    private const string GuestHostKey = "/etc/dropbear/dropbear_ed25519_host_key";

    /// <summary>Renames the guest, sets its clock, stirs its entropy, replaces its host key; returns the key's fingerprint.</summary>
    private async Task<string?> GiveIdentityAsync(string pool, VmFiles files, string vmName, CancellationToken cancellationToken)
    {
        var epoch = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var entropy = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(64));

        // The new key is written aside and moved into place, so sshd never sees half a key; killing sshd makes init
        // respawn it with the new key (nobody is logged in yet). The entropy goes in before the key is generated.
        var commands = $"hostname {vmName}; echo {vmName} > /etc/hostname; date -s @{epoch} >/dev/null; echo {entropy} > /dev/urandom; "
            + $"if command -v dropbearkey >/dev/null; then k={GuestHostKey}; rm -f $k.new; "
            + "dropbearkey -t ed25519 -f $k.new >/dev/null 2>&1 && mv $k.new $k && killall dropbear 2>/dev/null; "
            + "dropbearkey -y -f $k 2>/dev/null | grep '^ssh-'; fi";
        var output = await GuestProbe.RunOnConsoleAsync(files.Serial, commands, _options.BootTimeout, _time, cancellationToken);
        var fingerprint = HostKeyFingerprint(output);
        if (fingerprint is null)
        {
            QemuLog.NoOwnHostKey(_logger, pool, vmName, output.Length > 200 ? output[..200] : output);
        }

        return fingerprint;
    }

    /// <summary>
    /// The OpenSSH-style fingerprint (<c>SHA256:</c> + unpadded base64 of the key blob's SHA-256, as <c>ssh-keygen -l</c>
    /// shows it) of the first public key line (<c>ssh-ed25519 AAAA… comment</c>) in <paramref name="text"/>.
    /// </summary>
    internal static string? HostKeyFingerprint(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !(fields[0].StartsWith("ssh-", StringComparison.Ordinal) || fields[0].StartsWith("ecdsa-", StringComparison.Ordinal)))
            {
                continue;
            }

            try
            {
                var blob = Convert.FromBase64String(fields[1]);
                return "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
            }
            catch (FormatException)
            {
                // not a key line after all
            }
        }

        return null;
    }
}
