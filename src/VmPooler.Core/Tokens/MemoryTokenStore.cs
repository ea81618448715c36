namespace VmPooler.Core.Tokens;

/// <summary>The token store of the in-memory inventory (one process).</summary>
public sealed class MemoryTokenStore : ITokenStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TokenRecord> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _vms = new(StringComparer.Ordinal);

    public Task CreateAsync(TokenRecord token, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _tokens[token.Hash] = token;
        }

        return Task.CompletedTask;
    }

    public Task<TokenRecord?> GetAsync(string hash, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_tokens.GetValueOrDefault(hash));
        }
    }

    public Task TouchAsync(string hash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_tokens.TryGetValue(hash, out var token))
            {
                _tokens[hash] = token with { Last = now };
            }
        }

        return Task.CompletedTask;
    }

    public Task<bool> DeleteAsync(string hash, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _vms.Remove(hash);
            return Task.FromResult(_tokens.Remove(hash));
        }
    }

    public Task<IReadOnlyList<TokenRecord>> ListAsync(string user, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<TokenRecord>>(
                [.. _tokens.Values.Where(t => t.User == user).OrderBy(t => t.Created).ThenBy(t => t.Hash, StringComparer.Ordinal)]);
        }
    }

    public Task AddVmsAsync(string hash, IReadOnlyCollection<string> vms, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_tokens.ContainsKey(hash))
            {
                if (!_vms.TryGetValue(hash, out var set))
                {
                    _vms[hash] = set = new HashSet<string>(StringComparer.Ordinal);
                }

                set.UnionWith(vms);
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> GetVmsAsync(string hash, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<string>>(_vms.TryGetValue(hash, out var set) ? [.. set.Order(StringComparer.Ordinal)] : []);
        }
    }

    public Task RemoveVmsAsync(string hash, IReadOnlyCollection<string> vms, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_vms.TryGetValue(hash, out var set))
            {
                set.ExceptWith(vms);
            }
        }

        return Task.CompletedTask;
    }
}
