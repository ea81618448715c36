namespace VmPooler.Api.Auth;

/// <summary>
/// Checks a username and password from HTTP Basic auth against the configured auth provider (spec §7.2). Used only by
/// the <c>/token</c> routes. Implementations never throw for a wrong or hostile user name or password: they answer
/// <see cref="AuthResult.Denied"/>; an unreachable directory is <see cref="AuthResult.Unavailable"/>.
/// </summary>
public interface IAuthenticator
{
    Task<AuthResult> AuthenticateAsync(string username, string password, CancellationToken cancellationToken);
}

/// <summary>The answer of an <see cref="IAuthenticator"/>.</summary>
public enum AuthResult
{
    /// <summary>The credentials are good.</summary>
    Accepted,

    /// <summary>Wrong password, unknown user, or a user name that is not allowed (e.g. an LDAP filter or DN injection).</summary>
    Denied,

    /// <summary>The auth backend could not be asked (e.g. LDAP server down): the API answers 503.</summary>
    Unavailable,
}
