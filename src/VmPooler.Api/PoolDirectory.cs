using VmPooler.Core.Configuration;

namespace VmPooler.Api;

/// <summary>
/// What the API knows about pools, built once from the configuration: names in order, the alias index (an alias may
/// name several pools, and may equal another pool's name), and each pool's domain (spec §5.1 derived structures).
/// </summary>
public sealed class PoolDirectory
{
    private readonly Dictionary<string, PoolOptions> _pools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _aliases = new(StringComparer.Ordinal);
    private readonly VmPoolerOptions _options;
    private readonly Random _random;
    private readonly Lock _randomGate = new();

    public PoolDirectory(VmPoolerOptions options, Random? random = null)
    {
        _options = options;
        _random = random ?? new Random();
        foreach (var pool in options.Pools)
        {
            _pools[pool.Name] = pool;
            foreach (var alias in pool.Aliases)
            {
                if (!_aliases.TryGetValue(alias, out var targets))
                {
                    _aliases[alias] = targets = [];
                }

                if (!targets.Contains(pool.Name))
                {
                    targets.Add(pool.Name);
                }
            }
        }
    }

    public IReadOnlyList<PoolOptions> Pools => _options.Pools;

    public IReadOnlyList<string> PoolNames => [.. _options.Pools.Select(p => p.Name)];

    public PoolOptions? Find(string name) => _pools.GetValueOrDefault(name);

    /// <summary>True when <paramref name="name"/> is a pool or an alias.</summary>
    public bool IsKnown(string name) => _pools.ContainsKey(name) || _aliases.ContainsKey(name);

    /// <summary>The domain VMs of <paramref name="pool"/> carry in answers, or null.</summary>
    public string? DomainOf(string pool) => _pools.TryGetValue(pool, out var options) ? _options.DomainOf(options) : null;

    /// <summary><c>vm</c> or <c>vm.domain</c> for a VM of <paramref name="pool"/>.</summary>
    public string Fqdn(string vm, string pool) => DomainOf(pool) is { Length: > 0 } domain ? $"{vm}.{domain}" : vm;

    /// <summary>
    /// The pools that may serve a request for <paramref name="name"/>, in the order to try them: the pool of that name,
    /// then the pools the alias names; when there is a choice, one is drawn to go first — weighted by
    /// <c>backend_weight</c> when every candidate's clone target has a weight, uniformly otherwise (spec §2.3).
    /// </summary>
    public IReadOnlyList<string> Candidates(string name)
    {
        var candidates = new List<string>();
        if (_pools.ContainsKey(name))
        {
            candidates.Add(name);
        }

        if (_aliases.TryGetValue(name, out var targets))
        {
            candidates.AddRange(targets.Where(t => !candidates.Contains(t)));
        }

        if (candidates.Count > 1)
        {
            var first = PickFirst(candidates);
            var chosen = candidates[first];
            candidates.RemoveAt(first);
            candidates.Insert(0, chosen);
        }

        return candidates;
    }

    private int PickFirst(List<string> candidates)
    {
        var weights = _options.Config.BackendWeight;
        var weighted = weights.Count > 0
            && candidates.All(c => CloneTarget(c) is { } target && weights.ContainsKey(target))
            && candidates.Sum(c => Math.Max(0, weights[CloneTarget(c)!])) > 0;
        int index;
        lock (_randomGate)
        {
            if (weighted)
            {
                var total = candidates.Sum(c => Math.Max(0, weights[CloneTarget(c)!]));
                var roll = _random.NextDouble() * total;
                index = candidates.Count - 1;
                for (var i = 0; i < candidates.Count; i++)
                {
                    roll -= Math.Max(0, weights[CloneTarget(candidates[i])!]);
                    if (roll < 0)
                    {
                        index = i;
                        break;
                    }
                }
            }
            else
            {
                index = _random.Next(candidates.Count);
            }
        }

        return index;
    }

    private string? CloneTarget(string pool) => _pools.TryGetValue(pool, out var options) ? options.CloneTarget ?? _options.Config.CloneTarget : null;
}
