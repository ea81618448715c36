namespace VmPooler.Api.Auth;

/// <summary>
/// The <c>dummy</c> provider (spec §7.2): accepts any pair where the user name differs from the password. Both must be
/// non-empty. Meant for development only; the config loader refuses it unless <c>VMPOOLER_DEBUG</c> is set.
/// </summary>
internal sealed class DummyAuthenticator : IAuthenticator
{
    public Task<AuthResult> AuthenticateAsync(string username, string password, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var accepted = !string.IsNullOrEmpty(username) && !string.IsNullOrEmpty(password)
            && !string.Equals(username, password, StringComparison.Ordinal);
        return Task.FromResult(accepted ? AuthResult.Accepted : AuthResult.Denied);
    }
}
