using System.Security.Cryptography;
using System.Text;

namespace VmPooler.Core.Tokens;

/// <summary>Making, hashing and comparing API tokens (spec §7.1, with a CSPRNG instead of the original's <c>rand</c>).</summary>
public static class TokenHashing
{
    /// <summary>Token length and alphabet as the original: 32 characters of <c>[a-z0-9]</c>, the first from a–y.</summary>
    public const int Length = 32;

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A new random token (about 165 bits from <see cref="RandomNumberGenerator"/>).</summary>
    public static string NewToken()
    {
        Span<char> chars = stackalloc char[Length];
        chars[0] = Alphabet[RandomNumberGenerator.GetInt32(25)];
        for (var i = 1; i < Length; i++)
        {
            chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return new string(chars);
    }

    /// <summary>Lower-case hex SHA-256 of the token: the only form in which a token is stored.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>True when <paramref name="token"/> hashes to <paramref name="hash"/>, compared in constant time.</summary>
    public static bool Matches(string token, string? hash)
        => hash is not null && FixedTimeEquals(Hash(token), hash);

    /// <summary>Compares two hashes (or other secrets) in time that depends only on their length.</summary>
    public static bool FixedTimeEquals(string a, string b)
        => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>The hint users see in <c>GET /token</c>: first and last four characters (leaves ~124 bits unknown).</summary>
    public static string Hint(string token) => token.Length <= 8 ? new string('*', token.Length) : $"{token[..4]}...{token[^4..]}";

    /// <summary>True when the text has the shape of a token: 32 of <c>[a-z0-9]</c> (cheap rejection before any lookup).</summary>
    public static bool LooksLikeToken(string? text)
        => text is { Length: Length } && text.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'));
}
