namespace VmPooler.Api.Auth;

/// <summary>Any provider other than <c>dummy</c> or <c>ldap</c>: authentication always fails (spec §7.2).</summary>
internal sealed class DenyingAuthenticator : IAuthenticator
{
    public Task<AuthResult> AuthenticateAsync(string username, string password, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(AuthResult.Denied);
    }
}
