using System.Text.RegularExpressions;

namespace VmPooler.Core.OnDemand;

/// <summary>
/// Tells a clone failure that retrying cannot fix (a missing template, a wrong path, refused credentials, a broken
/// configuration) from a passing one (spec §4.7, 3.8+): an on-demand request fails at once on the first, and is retried
/// up to <c>max_vm_retries</c> times on the second.
/// </summary>
public static partial class PermanentErrors
{
    /// <summary>Exception types that mean the call itself was wrong, not that it was unlucky.</summary>
    private static readonly HashSet<string> PermanentTypes = new(StringComparer.Ordinal)
    {
        nameof(ArgumentException),
        nameof(ArgumentNullException),
        nameof(ArgumentOutOfRangeException),
        nameof(NotSupportedException),
        nameof(NotImplementedException),
        nameof(UnauthorizedAccessException),
        nameof(FileNotFoundException),
        nameof(DirectoryNotFoundException),
    };

    /// <summary>True when <paramref name="exception"/> (or the error class and message recorded for it) is permanent.</summary>
    public static bool IsPermanent(Exception exception) => IsPermanent(exception.GetType().Name, exception.Message);

    public static bool IsPermanent(string? errorClass, string? message)
        => (errorClass is not null && PermanentTypes.Contains(errorClass)) || (message is not null && PermanentMessage().IsMatch(message));

    [GeneratedRegex(
        @"template\b.*\bnot found|does not exist|invalid\b.*\bpath|(folder|datastore|resource pool|cluster|clone target|datacenter)\b.*\bnot found|permission\b.*\bdenied|authentication\b.*\bfailed|invalid\b.*\bcredentials|configuration\b.*\berror|\bInvalidLogin\b|username or password is wrong|\bno clone target\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex PermanentMessage();
}
