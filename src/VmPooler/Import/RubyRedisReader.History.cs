using StackExchange.Redis;
using VmPooler.Core.Import;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;

namespace VmPooler.Import;

/// <summary>The readers of the history behind <c>/summary</c> and of on-demand requests.</summary>
public sealed partial class RubyRedisReader
{
    private async Task<IReadOnlyList<RubyDurations>> ReadDurationsAsync()
    {
        var days = new List<RubyDurations>();
        foreach (var (kind, reportKind, name) in new[] { (DurationKind.Clone, ImportKinds.CloneDuration, "clone"), (DurationKind.Boot, ImportKinds.BootDuration, "boot") })
        {
            foreach (var (key, dayText) in Keys(name))
            {
                if (Day(dayText) is not { } day)
                {
                    Skip(reportKind, key, "the key does not end in a date (YYYY-MM-DD)");
                    continue;
                }

                if (!Is(key, RedisType.Hash, reportKind))
                {
                    continue;
                }

                var entries = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var (field, value) in await HashAsync(key))
                {
                    if (Seconds(value) is { } seconds)
                    {
                        entries[field] = seconds;
                    }
                    else
                    {
                        Skip(reportKind, $"{key} {field}", $"not a number of seconds: '{value}'");
                    }
                }

                days.Add(new RubyDurations(kind, day, entries));
            }
        }

        return days;
    }

    private async Task<IReadOnlyList<RubyTagDay>> ReadTagsAsync()
    {
        var days = new List<RubyTagDay>();
        foreach (var (key, dayText) in Keys("tag"))
        {
            if (Day(dayText) is not { } day)
            {
                Skip(ImportKinds.Tag, key, "the key does not end in a date (YYYY-MM-DD)");
            }
            else if (Is(key, RedisType.Hash, ImportKinds.Tag))
            {
                days.Add(new RubyTagDay(day, await HashAsync(key)));
            }
        }

        return days;
    }

    private async Task<IReadOnlyDictionary<string, DateTimeOffset>> ReadLastBootAsync()
    {
        var lastBoot = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var (key, _) in Keys("lastboot"))
        {
            if (!Is(key, RedisType.Hash, ImportKinds.LastBoot))
            {
                continue;
            }

            foreach (var (pool, value) in await HashAsync(key))
            {
                if (RubyTime.Parse(value) is { } at)
                {
                    lastBoot[pool] = at;
                }
                else
                {
                    Skip(ImportKinds.LastBoot, pool, $"not a time: '{value}'");
                }
            }
        }

        return lastBoot;
    }

    /// <summary>
    /// Requests in progress: an <c>odrequest</c> hash without a status, created at its score in the provisioning queues,
    /// with the VMs delivered so far from its <c>vmpooler__&lt;id&gt;__&lt;requested&gt;__&lt;pool&gt;</c> sets.
    /// </summary>
    private async Task<IReadOnlyList<RubyOnDemandRequest>> ReadOnDemandAsync()
    {
        var created = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, _) in Keys("provisioning"))
        {
            if (Is(key, RedisType.SortedSet, ImportKinds.OnDemand))
            {
                foreach (var entry in await _db.SortedSetRangeByRankWithScoresAsync(key))
                {
                    created[(string)entry.Element!] = entry.Score;
                }
            }
        }

        Consume("provisioning");
        var requests = new List<RubyOnDemandRequest>();
        foreach (var (key, id) in Keys("odrequest").ToList())
        {
            if (Is(key, RedisType.Hash, ImportKinds.OnDemand) && await ReadRequestAsync(key, id, created) is { } request)
            {
                requests.Add(request);
            }

            // The request's delivered-VM sets are filed under its id.
            if (_byKind.Remove(id, out var delivered) && requests.LastOrDefault()?.Id != id)
            {
                Ignore("VM sets of on-demand requests not carried over", delivered.Count);
            }
        }

        foreach (var id in created.Keys.Where(id => !_types.ContainsKey(Prefix + "odrequest__" + id)))
        {
            Skip(ImportKinds.OnDemand, id, "queued, but it has no vmpooler__odrequest__ hash");
        }

        Consume("odrequest");
        return requests;
    }

    private async Task<RubyOnDemandRequest?> ReadRequestAsync(string key, string id, Dictionary<string, double> created)
    {
        var hash = await HashAsync(key);
        if (hash.GetValueOrDefault("status") is { } status)
        {
            Ignore($"finished on-demand requests (status {status}; their VMs are imported as running VMs with their owners)");
            return null;
        }

        if (!created.TryGetValue(id, out var score))
        {
            Skip(ImportKinds.OnDemand, id, "in progress, but in neither provisioning queue, so its creation time is unknown");
            return null;
        }

        var parts = (hash.GetValueOrDefault("requested") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var entries = parts.Select(Entry).ToList();
        if (entries.Count == 0 || entries.Any(e => e is null))
        {
            Skip(ImportKinds.OnDemand, id, $"'requested' is not a list of <name>:<pool>:<count>: '{hash.GetValueOrDefault("requested")}'");
            return null;
        }

        var delivered = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var setKey = $"{Prefix}{id}__{entry!.Requested}__{entry.Pool}";
            if (_types.GetValueOrDefault(setKey) == RedisType.Set)
            {
                delivered[entry.Key] = [.. (await _db.SetMembersAsync(setKey)).Select(m => (string)m!)];
            }
        }

        return new RubyOnDemandRequest(
            id,
            [.. entries.Select(e => e!)],
            DateTimeOffset.FromUnixTimeMilliseconds((long)(score * 1000)),
            hash.GetValueOrDefault(VmFields.Token),
            hash.GetValueOrDefault(VmFields.TokenUser),
            delivered);
    }
}
