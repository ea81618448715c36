using System.Globalization;
using System.Text;

namespace VmPooler.Api.Auth;

/// <summary>
/// What may go into a DN or a search filter. User names are checked twice: <see cref="IsAcceptableUserName"/> refuses
/// anything a directory user name never needs, and whatever passes is still escaped (RFC 4514 for DN values, RFC 4515
/// for filter values) so that a gap in one check is covered by the other.
/// </summary>
internal static class LdapNames
{
    /// <summary>Longest user name that is sent to the directory at all.</summary>
    public const int MaxUserNameLength = 256;

    // DN and filter metacharacters; none of them appears in a real login name.
    private const string RefusedCharacters = "*()\\,=+<>#;\"";

    /// <summary>
    /// False for a user name that must not reach the directory: empty, longer than <see cref="MaxUserNameLength"/>,
    /// with a DN or filter metacharacter (<c>*()\,=+&lt;&gt;#;"</c>), NUL or another control character, a lone
    /// surrogate, or leading/trailing white space.
    /// </summary>
    public static bool IsAcceptableUserName(string? username)
    {
        if (string.IsNullOrEmpty(username) || username.Length > MaxUserNameLength)
        {
            return false;
        }

        if (char.IsWhiteSpace(username[0]) || char.IsWhiteSpace(username[^1]))
        {
            return false;
        }

        for (var i = 0; i < username.Length; i++)
        {
            var c = username[i];
            if (char.IsControl(c) || RefusedCharacters.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }

            if (char.IsHighSurrogate(c) && i + 1 < username.Length && char.IsLowSurrogate(username[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Escapes an attribute value for use in a DN string (RFC 4514 §2.4): <c>\</c> before <c>" + , ; &lt; &gt; \ =</c>,
    /// before a leading space or <c>#</c> and a trailing space; NUL and other control characters as <c>\XX</c> hex pairs.
    /// </summary>
    public static string EscapeDnValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length + 8);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c))
            {
                AppendHex(builder, c);
            }
            else if (c is '"' or '+' or ',' or ';' or '<' or '>' or '\\' or '='
                || (i == 0 && c is ' ' or '#')
                || (i == value.Length - 1 && c == ' '))
            {
                builder.Append('\\').Append(c);
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// Escapes an assertion value for use in a search filter (RFC 4515 §3): <c>* ( ) \</c> and NUL as <c>\2a \28 \29
    /// \5c \00</c>, and other control characters as hex too.
    /// </summary>
    public static string EscapeFilterValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (c is '*' or '(' or ')' or '\\' || char.IsControl(c))
            {
                AppendHex(builder, c);
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>True for an attribute type usable as <c>user_object</c>: a descriptor (RFC 4512 <c>keystring</c>) or an OID.</summary>
    public static bool IsAttributeType(string value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        if (char.IsAsciiDigit(value[0]))
        {
            return value.Split('.').All(part => part.Length > 0 && part.All(char.IsAsciiDigit));
        }

        return char.IsAsciiLetter(value[0]) && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
    }

    // Control characters are all below U+00A0, i.e. one UTF-8 byte (C0) or two (C1).
    private static void AppendHex(StringBuilder builder, char c)
    {
        foreach (var b in Encoding.UTF8.GetBytes(c.ToString()))
        {
            builder.Append('\\').Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }
    }
}
