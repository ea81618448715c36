namespace VmPooler.Core.Inventory;

/// <summary>
/// Pool settings changed at run time through the experimental config routes (spec §2.7): size, template and clone target
/// overrides, the template each pool's VMs were last prepared from, and requests to reset (drain) a pool. Every API
/// process and the manager read the same store, so they converge.
/// </summary>
public interface IPoolOverrideStore
{
    Task<PoolOverrides> GetAsync(CancellationToken cancellationToken);

    /// <summary>Sets (or, with null, removes) one override of one pool.</summary>
    Task SetAsync(PoolOverrideKind kind, string pool, string? value, CancellationToken cancellationToken);

    /// <summary>Asks the manager to drain a pool's ready and pending VMs.</summary>
    Task RequestResetAsync(string pool, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the pending reset requests of the pools <paramref name="owned"/> accepts (a pool's owner drains it, where its
    /// provider is); each request is taken once, whichever manager asks.
    /// </summary>
    Task<IReadOnlyList<string>> TakeResetsAsync(Func<string, bool> owned, CancellationToken cancellationToken);
}

/// <summary>Which pool setting an override replaces.</summary>
public enum PoolOverrideKind
{
    Size,
    Template,
    CloneTarget,

    /// <summary>Not an override: the template the manager last prepared the pool from (for <c>template_ready</c>).</summary>
    Prepared,
}

/// <summary>The current overrides, pool → value, per kind.</summary>
public sealed record PoolOverrides(IReadOnlyDictionary<PoolOverrideKind, IReadOnlyDictionary<string, string>> Values)
{
    public static PoolOverrides Empty { get; } = new(new Dictionary<PoolOverrideKind, IReadOnlyDictionary<string, string>>());

    public string? Get(PoolOverrideKind kind, string pool)
        => Values.TryGetValue(kind, out var map) && map.TryGetValue(pool, out var value) ? value : null;

    /// <summary>The size override of a pool, when there is a valid one.</summary>
    public int? Size(string pool)
        => int.TryParse(Get(PoolOverrideKind.Size, pool), System.Globalization.CultureInfo.InvariantCulture, out var size) && size >= 0 ? size : null;

    /// <summary>The pool with its overrides applied.</summary>
    public Configuration.PoolOptions Apply(Configuration.PoolOptions pool)
        => pool with
        {
            Size = Size(pool.Name) ?? pool.Size,
            Template = Get(PoolOverrideKind.Template, pool.Name) ?? pool.Template,
            CloneTarget = Get(PoolOverrideKind.CloneTarget, pool.Name) ?? pool.CloneTarget,
        };
}

/// <summary>The in-memory override store (one process).</summary>
public sealed class MemoryPoolOverrideStore : IPoolOverrideStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<PoolOverrideKind, Dictionary<string, string>> _values = [];
    private readonly List<string> _resets = [];

    public Task<PoolOverrides> GetAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(new PoolOverrides(_values.ToDictionary(
                kv => kv.Key,
                kv => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(kv.Value, StringComparer.Ordinal))));
        }
    }

    public Task SetAsync(PoolOverrideKind kind, string pool, string? value, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_values.TryGetValue(kind, out var map))
            {
                _values[kind] = map = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            if (value is null)
            {
                map.Remove(pool);
            }
            else
            {
                map[pool] = value;
            }
        }

        return Task.CompletedTask;
    }

    public Task RequestResetAsync(string pool, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_resets.Contains(pool, StringComparer.Ordinal))
            {
                _resets.Add(pool);
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> TakeResetsAsync(Func<string, bool> owned, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<string> taken = [.. _resets.Where(owned)];
            _resets.RemoveAll(taken.Contains);
            return Task.FromResult(taken);
        }
    }
}
