using System.Globalization;

namespace VmPooler;

/// <summary>
/// The parts of upstream's command line and environment that its container image and Helm chart rely on, so their
/// manifests run this executable unchanged: the role words (<c>vmpooler api</c>, <c>vmpooler manager</c>, both, or
/// none for both; anything else exits 2, spec §1) and <c>PORT</c>, which Sinatra reads for the listening port.
/// </summary>
public static class UpstreamArguments
{
    /// <summary>The environment variable upstream's chart sets to the API port (Sinatra's default 4567 otherwise).</summary>
    public const string PortVariable = "PORT";

    /// <summary>
    /// The role the words name: none → null (the <c>--role</c> option decides), <c>api</c> and/or <c>manager</c> →
    /// that role. Returns false for any other word, as upstream exits 2 then.
    /// </summary>
    public static bool TryParseRoleWords(IReadOnlyList<string> words, out VmPoolerRole? role)
    {
        role = null;
        var api = false;
        var manager = false;
        foreach (var word in words)
        {
            switch (word)
            {
                case "api":
                    api = true;
                    break;
                case "manager":
                    manager = true;
                    break;
                default:
                    return false;
            }
        }

        role = (api, manager) switch
        {
            (true, true) => VmPoolerRole.All,
            (true, false) => VmPoolerRole.Api,
            (false, true) => VmPoolerRole.Manager,
            _ => null,
        };
        return true;
    }

    /// <summary>
    /// The listening address for a <c>PORT</c> value: null when unset or empty, <c>http://0.0.0.0:PORT</c> for a port
    /// number 1–65535; false for anything else (a clear start-up error instead of a silent default).
    /// </summary>
    public static bool TryListenUrlFromPort(string? value, out string? url)
    {
        url = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        if (!int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return false;
        }

        url = "http://0.0.0.0:" + port.ToString(CultureInfo.InvariantCulture);
        return true;
    }
}
