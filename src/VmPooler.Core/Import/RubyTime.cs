using System.Globalization;

namespace VmPooler.Core.Import;

/// <summary>
/// The time forms a Ruby vmpooler writes into Redis: Ruby's <c>Time#to_s</c> (<c>2026-12-06 10:48:23 +0000</c>, or
/// <c>… UTC</c> for a UTC time) and ISO 8601 with an offset. Anything else is not a time: never guessed.
/// </summary>
public static class RubyTime
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd HH:mm:ss zzz",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF zzz",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var value = text.Trim();
        if (value.EndsWith(" UTC", StringComparison.Ordinal))
        {
            value = value[..^4] + " +00:00";
        }
        else if (value.Length > 6 && value[^5] is '+' or '-' && value[^6] == ' ' && value[^4..].All(char.IsAsciiDigit))
        {
            // Ruby's "+0000" offset: .NET wants "+00:00".
            value = value[..^2] + ":" + value[^2..];
        }

        return DateTimeOffset.TryParseExact(value, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? time : null;
    }
}
