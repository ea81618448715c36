using System.Globalization;
using StackExchange.Redis;
using VmPooler.Core.Import;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;

namespace VmPooler.Import;

/// <summary>
/// Reads a Ruby vmpooler's Redis (its key schema, spec §3) into <see cref="RubyData"/>. It only ever reads (SCAN, TYPE and
/// the typed reads), never writes. Every <c>vmpooler__*</c> key is accounted for: read into a fact, left alone with a
/// counted reason (the Ruby manager's bookkeeping), or reported as a skip (malformed, or unknown).
/// </summary>
public sealed partial class RubyRedisReader
{
    private const string Prefix = "vmpooler__";

    private static readonly Dictionary<string, VmState> StateSets = new(StringComparer.Ordinal)
    {
        ["pending"] = VmState.Pending,
        ["ready"] = VmState.Ready,
        ["running"] = VmState.Running,
        ["completed"] = VmState.Completed,
    };

    private static readonly Dictionary<string, string> IgnoredKinds = new(StringComparer.Ordinal)
    {
        ["discovered"] = "discovered-VM sets (ours finds VMs the provider has but the inventory does not by itself)",
        ["migrating"] = "migration queues (vSphere; the VMs themselves are imported from their running sets)",
        ["empty"] = "pool-empty flags",
        ["pool"] = "copies of the pool configuration and undo requests (ours reads the configuration)",
        ["pools"] = "the registered pool list",
        ["odcreate"] = "the on-demand clone queue (ours works from the request itself)",
        ["migration"] = "the vSphere migration set",
        ["dlq"] = "dead-letter queues",
        ["health"] = "the health-check record",
        ["ratelimit"] = "rate-limit counters",
        ["active"] = "checkout-time hashes (read for running VMs whose hash lacks a checkout time)",
    };

    private readonly IDatabase _db;
    private readonly List<ImportSkip> _skips = [];
    private readonly Dictionary<string, int> _ignored = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RedisType> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _byKind = new(StringComparer.Ordinal);

    private RubyRedisReader(IDatabase db)
    {
        _db = db;
    }

    /// <summary>Reads every <c>vmpooler__*</c> key of the database <paramref name="db"/>.</summary>
    public static async Task<RubyData> ReadAsync(IDatabase db)
    {
        var reader = new RubyRedisReader(db);
        var keys = await ScanAsync(db, Prefix + "*");
        var types = await Task.WhenAll(keys.Select(k => db.KeyTypeAsync(k)));
        for (var i = 0; i < keys.Count; i++)
        {
            reader._types[keys[i]] = types[i];
            reader.Classify(keys[i]);
        }

        var onDemand = await reader.ReadOnDemandAsync();
        reader.AccountForRest();
        return new RubyData
        {
            Tokens = await reader.ReadTokensAsync(),
            Vms = await reader.ReadVmsAsync(),
            Overrides = await reader.ReadOverridesAsync(),
            PoolResets = await reader.ReadPoolResetsAsync(),
            Durations = await reader.ReadDurationsAsync(),
            Tags = await reader.ReadTagsAsync(),
            LastBoot = await reader.ReadLastBootAsync(),
            OnDemand = onDemand,
            Skips = reader._skips,
            Ignored = reader._ignored,
        };
    }

    /// <summary>Every key matching <paramref name="pattern"/>, by SCAN (never KEYS: the Ruby API may still be serving).</summary>
    public static async Task<List<string>> ScanAsync(IDatabase db, string pattern)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var cursor = "0";
        do
        {
            var reply = (RedisResult[])(await db.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", 1000))!;
            cursor = (string)reply[0]!;
            keys.UnionWith(((RedisResult[])reply[1]!).Select(k => (string)k!));
        }
        while (cursor != "0");
        return [.. keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>Files a key under its kind: the segment after <c>vmpooler__</c> (<c>vm</c>, <c>token</c>, <c>ready</c> …).</summary>
    private void Classify(string key)
    {
        var rest = key[Prefix.Length..];
        var split = rest.IndexOf("__", StringComparison.Ordinal);
        var kind = split < 0 ? rest : rest[..split];
        if (!_byKind.TryGetValue(kind, out var list))
        {
            _byKind[kind] = list = [];
        }

        list.Add(key);
    }

    /// <summary>The keys of one kind, each with what follows the kind (<c>vmpooler__token__abc</c> → <c>abc</c>).</summary>
    private IEnumerable<(string Key, string Name)> Keys(string kind)
        => (_byKind.GetValueOrDefault(kind) ?? []).Select(k => (k, k.Length > Prefix.Length + kind.Length + 2 ? k[(Prefix.Length + kind.Length + 2)..] : ""));

    private void Consume(string kind) => _byKind.Remove(kind);

    /// <summary>Counts the kinds left alone; every key of a kind nobody read is reported as unknown.</summary>
    private void AccountForRest()
    {
        foreach (var (kind, reason) in IgnoredKinds)
        {
            if (_byKind.GetValueOrDefault(kind) is { Count: > 0 } keys && kind != "active")
            {
                _ignored[reason] = keys.Count;
                Consume(kind);
            }
        }

        var known = new HashSet<string>(StateSets.Keys.Concat(["vm", "token", "config", "template", "poolreset", "clone", "boot", "tag", "lastboot", "tasks", "active"]), StringComparer.Ordinal);
        foreach (var (kind, keys) in _byKind.Where(kv => !known.Contains(kv.Key)).ToList())
        {
            foreach (var key in keys)
            {
                Skip(ImportKinds.Key, key, "not a key of the vmpooler layout this importer knows (spec §3)");
            }

            Consume(kind);
        }
    }

    private void Skip(string kind, string key, string reason) => _skips.Add(new ImportSkip(kind, key, reason));

    private void Ignore(string reason, int count = 1) => _ignored[reason] = _ignored.GetValueOrDefault(reason) + count;

    /// <summary>True when <paramref name="key"/> is of <paramref name="expected"/> type; otherwise reports it.</summary>
    private bool Is(string key, RedisType expected, string kind)
    {
        var actual = _types.GetValueOrDefault(key, RedisType.None);
        if (actual == expected)
        {
            return true;
        }

        Skip(kind, key, $"expected a {expected.ToString().ToLowerInvariant()}, found a {actual.ToString().ToLowerInvariant()}");
        return false;
    }

    private async Task<Dictionary<string, string>> HashAsync(string key)
        => (await _db.HashGetAllAsync(key)).ToDictionary(e => (string)e.Name!, e => (string)e.Value!, StringComparer.Ordinal);

    private static DateOnly? Day(string text)
        => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null;

    private static double? Seconds(string text)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds) ? seconds : null;

    private static OnDemandEntry? Entry(string text)
    {
        var parts = text.Split(':');
        return parts.Length == 3 && parts[0].Length > 0 && parts[1].Length > 0
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0
            ? new OnDemandEntry(parts[0], parts[1], count)
            : null;
    }
}
