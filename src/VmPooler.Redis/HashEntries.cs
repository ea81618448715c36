using StackExchange.Redis;

namespace VmPooler.Redis;

/// <summary>Reading Redis hashes.</summary>
internal static class HashEntries
{
    /// <summary>A hash's fields as strings (ordinal keys).</summary>
    public static Dictionary<string, string> ToStringDictionary(this HashEntry[] entries)
        => entries.ToDictionary(e => (string)e.Name!, e => (string)e.Value!, StringComparer.Ordinal);
}
