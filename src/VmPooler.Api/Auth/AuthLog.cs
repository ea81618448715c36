using Microsoft.Extensions.Logging;
using VmPooler.Core.Diagnostics;

namespace VmPooler.Api.Auth;

/// <summary>Auth provider log events. Passwords are never logged; refused user names only by length (they may hold control characters).</summary>
internal static partial class AuthLog
{
    [LoggerMessage(EventIds.AuthUserNameRefused, LogLevel.Information, "[auth] refused a user name of {Length} characters without asking the directory (empty, too long, or with characters no user name needs)")]
    public static partial void UserNameRefused(ILogger logger, int length);

    [LoggerMessage(EventIds.AuthDenied, LogLevel.Information, "[auth] LDAP authentication failed for '{User}'")]
    public static partial void Denied(ILogger logger, string user);

    [LoggerMessage(EventIds.AuthAccepted, LogLevel.Debug, "[auth] LDAP authentication succeeded for '{User}' as {Dn}")]
    public static partial void Accepted(ILogger logger, string user, string dn);

    [LoggerMessage(EventIds.AuthDirectoryUnavailable, LogLevel.Warning, "[auth] LDAP server {Host}:{Port} unavailable: {Reason}")]
    public static partial void Unavailable(ILogger logger, string host, int port, string reason);

    [LoggerMessage(EventIds.AuthServiceAccountFailed, LogLevel.Error, "[auth] LDAP service account {Dn} could not bind or search: {Reason}")]
    public static partial void ServiceAccountFailed(ILogger logger, string dn, string reason);

    [LoggerMessage(EventIds.AuthAmbiguousUser, LogLevel.Warning, "[auth] LDAP search under {Base} for {UserObject}='{User}' found more than one entry; refused")]
    public static partial void Ambiguous(ILogger logger, string @base, string userObject, string user);

    [LoggerMessage(EventIds.AuthUnknownProvider, LogLevel.Warning, "[auth] unknown auth provider '{Provider}': every login will fail")]
    public static partial void UnknownProvider(ILogger logger, string provider);
}
