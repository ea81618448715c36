using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace VmPooler.Providers.Qemu;

/// <summary>
/// An ed25519 SSH host key in dropbear's file format, made on the host by the native <c>dropbearkey</c> (milliseconds;
/// in a guest under TCG it took ~1.4 s), with its OpenSSH-style fingerprint. The file is
/// <c>string "ssh-ed25519", string (32-byte seed ‖ 32-byte public key)</c>, each string a big-endian length and bytes.
/// </summary>
internal sealed record DropbearHostKey(byte[] File, string Fingerprint)
{
    private const string KeyType = "ssh-ed25519";

    /// <summary>
    /// A new key from <paramref name="dropbearkey"/>, written into <paramref name="directory"/> (mode 0600, dropbearkey's)
    /// only for as long as it takes to read it back.
    /// </summary>
    public static async Task<DropbearHostKey> GenerateAsync(string dropbearkey, string directory, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, $"hostkey-{Guid.NewGuid().ToString("N")[..8]}.tmp");
        try
        {
            var result = await HostProcesses.RunAsync(dropbearkey, ["-t", "ed25519", "-f", path], timeout, time, cancellationToken);
            if (result.ExitCode != 0 || !System.IO.File.Exists(path))
            {
                throw new InvalidOperationException($"{dropbearkey} -t ed25519 failed: {result.Describe()}");
            }

            return Parse(await System.IO.File.ReadAllBytesAsync(path, cancellationToken));
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    /// <summary>
    /// Removes the key files that a process killed while <see cref="GenerateAsync"/> ran left in
    /// <paramref name="directory"/> (private keys never used: a key's file is removed once read back). Only files last
    /// written more than <paramref name="age"/> before <paramref name="now"/>, so another process's key in the making is
    /// left alone. Returns how many were removed.
    /// </summary>
    public static int RemoveLeftovers(string directory, TimeSpan age, DateTimeOffset now)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var removed = 0;
        try
        {
            foreach (var path in Directory.EnumerateFiles(directory, "hostkey-*.tmp"))
            {
                if (now.UtcDateTime - System.IO.File.GetLastWriteTimeUtc(path) > age)
                {
                    System.IO.File.Delete(path);
                    removed++;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A directory or file not ours to read or remove: the next start tries again (the start goes on).
        }

        return removed;
    }

    /// <summary>Reads a dropbear ed25519 key file; throws <see cref="FormatException"/> when it is not one.</summary>
    public static DropbearHostKey Parse(byte[] file)
    {
        var rest = file.AsSpan();
        var type = ReadString(ref rest);
        var keys = ReadString(ref rest);
        if (!type.SequenceEqual(Encoding.ASCII.GetBytes(KeyType)) || keys.Length != 64 || rest.Length != 0)
        {
            throw new FormatException($"not a dropbear {KeyType} key file ({file.Length} bytes)");
        }

        return new DropbearHostKey(file, FingerprintOf(PublicKeyBlob(keys[32..])));
    }

    /// <summary>The OpenSSH-style fingerprint of a public key blob: <c>SHA256:</c> + unpadded base64 of its SHA-256, as <c>ssh-keygen -l</c> shows it.</summary>
    public static string FingerprintOf(ReadOnlySpan<byte> publicKeyBlob)
        => "SHA256:" + Convert.ToBase64String(SHA256.HashData(publicKeyBlob)).TrimEnd('=');

    /// <summary>The SSH wire form of an ed25519 public key: <c>string "ssh-ed25519", string key</c>.</summary>
    private static byte[] PublicKeyBlob(ReadOnlySpan<byte> publicKey)
    {
        var blob = new byte[4 + KeyType.Length + 4 + publicKey.Length];
        BinaryPrimitives.WriteInt32BigEndian(blob, KeyType.Length);
        Encoding.ASCII.GetBytes(KeyType, blob.AsSpan(4));
        BinaryPrimitives.WriteInt32BigEndian(blob.AsSpan(4 + KeyType.Length), publicKey.Length);
        publicKey.CopyTo(blob.AsSpan(8 + KeyType.Length));
        return blob;
    }

    private static ReadOnlySpan<byte> ReadString(ref Span<byte> rest)
    {
        if (rest.Length < 4 || BinaryPrimitives.ReadUInt32BigEndian(rest) is var length && length > rest.Length - 4)
        {
            throw new FormatException("a dropbear key file ends inside a length-prefixed field");
        }

        var value = rest.Slice(4, (int)length);
        rest = rest[(4 + (int)length)..];
        return value;
    }
}
