using StackExchange.Redis;
using VmPooler.Core.Import;
using VmPooler.Core.Inventory;
using VmPooler.Core.Tokens;

namespace VmPooler.Import;

/// <summary>The readers of tokens, VMs and pool settings.</summary>
public sealed partial class RubyRedisReader
{
    private async Task<IReadOnlyList<RubyToken>> ReadTokensAsync()
    {
        var tokens = new List<RubyToken>();
        foreach (var (key, token) in Keys("token"))
        {
            // Never print a token: its hint stands for it.
            var shown = "vmpooler__token__" + TokenHashing.Hint(token);
            if (!Is(key, RedisType.Hash, ImportKinds.Token))
            {
                continue;
            }

            var hash = await HashAsync(key);
            if (hash.GetValueOrDefault("user") is not { Length: > 0 } user)
            {
                Skip(ImportKinds.Token, shown, "no user");
            }
            else if (RubyTime.Parse(hash.GetValueOrDefault("created")) is not { } created)
            {
                Skip(ImportKinds.Token, shown, $"'created' is not a time: '{hash.GetValueOrDefault("created")}'");
            }
            else if (hash.GetValueOrDefault("last") is { } lastText && RubyTime.Parse(lastText) is null)
            {
                Skip(ImportKinds.Token, shown, $"'last' is not a time: '{lastText}'");
            }
            else
            {
                tokens.Add(new RubyToken(token, user, created, RubyTime.Parse(hash.GetValueOrDefault("last"))));
            }
        }

        return tokens;
    }

    private async Task<IReadOnlyList<RubyVm>> ReadVmsAsync()
    {
        var placed = await StateSetMembersAsync();
        var vms = new List<RubyVm>();
        var actives = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (name, places) in placed.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (places.Count > 1)
            {
                Skip(ImportKinds.Vm, name, "in several state sets: " + string.Join(", ", places.Select(p => $"{p.State.ToString().ToLowerInvariant()} of {p.Pool}")));
                continue;
            }

            var (state, pool) = places[0];
            var key = Prefix + "vm__" + name;
            if (!_types.ContainsKey(key))
            {
                Skip(ImportKinds.Vm, name, $"in the {state.ToString().ToLowerInvariant()} set of {pool} but it has no metadata hash ({key})");
                continue;
            }

            if (!Is(key, RedisType.Hash, ImportKinds.Vm))
            {
                continue;
            }

            string? active = null;
            if (state == VmState.Running)
            {
                if (!actives.TryGetValue(pool, out var activeHash))
                {
                    var activeKey = Prefix + "active__" + pool;
                    actives[pool] = activeHash = _types.GetValueOrDefault(activeKey) == RedisType.Hash ? await HashAsync(activeKey) : [];
                }

                active = activeHash.GetValueOrDefault(name);
            }

            var (vm, error) = RubyVmFields.Map(name, pool, state, await HashAsync(key), active);
            if (vm is null)
            {
                Skip(ImportKinds.Vm, name, error!);
            }
            else
            {
                vms.Add(vm);
            }
        }

        var stale = Keys("vm").Count(k => !placed.ContainsKey(k.Name));
        if (stale > 0)
        {
            Ignore("metadata of VMs in no state set (destroyed or failed VMs the Ruby manager keeps for data_ttl)", stale);
        }

        return vms;
    }

    /// <summary>VM name → the state sets it is in.</summary>
    private async Task<Dictionary<string, List<(VmState State, string Pool)>>> StateSetMembersAsync()
    {
        var placed = new Dictionary<string, List<(VmState, string)>>(StringComparer.Ordinal);
        foreach (var (kind, state) in StateSets)
        {
            foreach (var (key, pool) in Keys(kind))
            {
                if (!Is(key, RedisType.Set, ImportKinds.Vm))
                {
                    continue;
                }

                foreach (var member in await _db.SetMembersAsync(key))
                {
                    var name = (string)member!;
                    if (!placed.TryGetValue(name, out var places))
                    {
                        placed[name] = places = [];
                    }

                    places.Add((state, pool));
                }
            }
        }

        return placed;
    }

    private async Task<IReadOnlyList<RubyOverride>> ReadOverridesAsync()
    {
        var overrides = new List<RubyOverride>();
        foreach (var (key, name) in Keys("config").Select(k => (k.Key, k.Name)).Concat(Keys("template").Select(k => (k.Key, "template__" + k.Name))))
        {
            PoolOverrideKind? kind = name switch
            {
                "poolsize" => PoolOverrideKind.Size,
                "template" => PoolOverrideKind.Template,
                "clone_target" => PoolOverrideKind.CloneTarget,
                "template__prepared" => PoolOverrideKind.Prepared,
                _ => null,
            };
            if (name == "template__deltas")
            {
                Ignore("the vSphere delta-disk template set (ours prepares templates itself)");
            }
            else if (kind is null)
            {
                Skip(ImportKinds.Override, key, "not a pool setting this importer knows (poolsize, template, clone_target, template__prepared)");
            }
            else if (Is(key, RedisType.Hash, ImportKinds.Override))
            {
                overrides.AddRange((await HashAsync(key)).Select(e => new RubyOverride(kind.Value, e.Key, e.Value)));
            }
        }

        return overrides;
    }

    private async Task<IReadOnlyList<string>> ReadPoolResetsAsync()
    {
        var resets = new List<string>();
        foreach (var (key, _) in Keys("poolreset"))
        {
            if (Is(key, RedisType.Set, ImportKinds.PoolReset))
            {
                resets.AddRange((await _db.SetMembersAsync(key)).Select(m => (string)m!));
            }
        }

        foreach (var (key, name) in Keys("tasks"))
        {
            if (name is "clone" or "ondemandclone")
            {
                Ignore("clone-task counters");
            }
            else if (Is(key, RedisType.Set, "queued task"))
            {
                foreach (var member in await _db.SetMembersAsync(key))
                {
                    Skip("queued task", $"{name} {(string)member!}", "the Ruby manager never ran it; ask for it again after the switch");
                }
            }
        }

        return resets;
    }
}
