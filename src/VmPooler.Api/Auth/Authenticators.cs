using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;

namespace VmPooler.Api.Auth;

/// <summary>Builds the <see cref="IAuthenticator"/> for the configured <c>:auth:</c> provider.</summary>
internal static class Authenticators
{
    /// <summary>
    /// <c>dummy</c> → <see cref="DummyAuthenticator"/>, <c>ldap</c> → <see cref="LdapAuthenticator"/>; any other
    /// provider → an authenticator that denies everyone (spec §7.2). Throws <see cref="ArgumentException"/> for LDAP
    /// settings that can never work (no host, base or user_object), naming the key.
    /// </summary>
    public static IAuthenticator Create(AuthOptions options, ILoggerFactory loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(time);
        switch (options.Provider)
        {
            case "dummy":
                return new DummyAuthenticator();
            case "ldap":
                return new LdapAuthenticator(LdapSettings.Parse(options.Settings), loggerFactory.CreateLogger<LdapAuthenticator>(), time);
            default:
                AuthLog.UnknownProvider(loggerFactory.CreateLogger(typeof(Authenticators)), options.Provider);
                return new DenyingAuthenticator();
        }
    }
}
