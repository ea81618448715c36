using VmPooler.Core.Configuration;

namespace VmPooler.Core.Leases;

/// <summary>
/// Turns the command line's <c>--manager-id</c> and <c>--pools-label key=value</c> into a <see cref="ManagerIdentity"/>,
/// and says what is wrong with a bad value (the executable reports it as an option error).
/// </summary>
public static class ManagerIdentityArguments
{
    /// <summary>The longest manager id accepted.</summary>
    public const int MaxIdLength = 512;

    /// <summary>What the default id says after the host name when the demo configuration was loaded.</summary>
    public const string EmbeddedSource = "embedded";

    /// <summary>Why <paramref name="id"/> cannot be a manager id, or null when it can.</summary>
    public static string? IdProblem(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return "must not be empty";
        }

        if (id.Length > MaxIdLength)
        {
            return $"must be at most {MaxIdLength} characters (got {id.Length})";
        }

        return id.Any(char.IsControl) ? "must not contain control characters" : null;
    }

    /// <summary>Why <paramref name="labels"/> (each <c>key=value</c>) cannot select pools, one message per bad value.</summary>
    public static IReadOnlyList<string> LabelProblems(IEnumerable<string> labels)
    {
        var problems = new List<string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var text in labels)
        {
            if (!TryParseLabel(text, out var key, out var value))
            {
                problems.Add($"'{text}' must be key=value with a non-empty key and value");
            }
            else if (seen.TryGetValue(key, out var earlier) && earlier != value)
            {
                problems.Add($"'{text}' contradicts '{key}={earlier}' (a pool has one value per label)");
            }
            else
            {
                seen[key] = value;
            }
        }

        return problems;
    }

    /// <summary>
    /// The default id: the host name plus the full path of the configuration file (<c>myhost:/etc/vmpooler/vmpooler.yaml</c>),
    /// <c>myhost:embedded</c> for the demo configuration, <c>myhost:VMPOOLER_CONFIG</c> for YAML from the environment. It
    /// stays the same across restarts, so a restarted manager resumes its own leases at once.
    /// </summary>
    public static string DefaultId(string hostName, string configSource)
        => hostName + ":" + (configSource == ConfigLoader.DemoSource ? EmbeddedSource : configSource);

    /// <summary>The identity from already validated values (see <see cref="IdProblem"/> and <see cref="LabelProblems"/>).</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public static ManagerIdentity Create(string? id, IEnumerable<string> labels, string hostName, string configSource)
    {
        var managerId = id ?? DefaultId(hostName, configSource);
        if (IdProblem(managerId) is { } problem)
        {
            throw new ArgumentException("--manager-id " + problem, nameof(id));
        }

        var list = labels.ToList();
        if (LabelProblems(list) is [var first, ..])
        {
            throw new ArgumentException("--pools-label " + first, nameof(labels));
        }

        var selector = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var text in list)
        {
            TryParseLabel(text, out var key, out var value);
            selector[key] = value;
        }

        return new ManagerIdentity(managerId, selector);
    }

    private static bool TryParseLabel(string text, out string key, out string value)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        key = equals > 0 ? text[..equals] : "";
        value = equals > 0 ? text[(equals + 1)..] : "";
        return !string.IsNullOrWhiteSpace(key) && !string.IsNullOrWhiteSpace(value);
    }
}
