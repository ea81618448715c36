namespace VmPooler.Core.Tokens;

/// <summary>
/// Where API tokens live. A token is never stored: only its SHA-256 (<see cref="TokenHashing.Hash"/>) and a short hint
/// (its first and last four characters) so users can tell their tokens apart in <c>GET /token</c>. Each token indexes the
/// VMs checked out with it, so <c>GET /token/&lt;t&gt;</c> needs no scan.
/// </summary>
public interface ITokenStore
{
    /// <summary>Stores a new token.</summary>
    Task CreateAsync(TokenRecord token, CancellationToken cancellationToken);

    /// <summary>The token with this hash, or null.</summary>
    Task<TokenRecord?> GetAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Records a use of the token (<c>last</c>); nothing when the token is gone.</summary>
    Task TouchAsync(string hash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes the token and its VM index; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Every token of <paramref name="user"/>, oldest first.</summary>
    Task<IReadOnlyList<TokenRecord>> ListAsync(string user, CancellationToken cancellationToken);

    /// <summary>Adds VMs to the token's index (after a checkout with the token).</summary>
    Task AddVmsAsync(string hash, IReadOnlyCollection<string> vms, CancellationToken cancellationToken);

    /// <summary>The VMs in the token's index (callers check each is still running with this token).</summary>
    Task<IReadOnlyList<string>> GetVmsAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Drops VMs from the token's index (pruning entries that are no longer running with it).</summary>
    Task RemoveVmsAsync(string hash, IReadOnlyCollection<string> vms, CancellationToken cancellationToken);
}

/// <summary>A stored token: its hash, owner, hint and times.</summary>
public sealed record TokenRecord(string Hash, string User, string Hint, DateTimeOffset Created, DateTimeOffset? Last = null);
