using System.DirectoryServices.Protocols;
using System.Net;
using Microsoft.Extensions.Logging;

namespace VmPooler.Api.Auth;

/// <summary>
/// The <c>ldap</c> provider (spec §7.2). For each base × each user_object, first success wins:
/// <list type="bullet">
/// <item>without <c>service_account_hash</c>: a simple bind as <c>&lt;user_object&gt;=&lt;username&gt;,&lt;base&gt;</c>;</item>
/// <item>with it: bind as the service account, search the base for <c>(&lt;user_object&gt;=&lt;username&gt;)</c>,
/// and bind as the one entry found with the user's password (none or several entries: not this combination).</item>
/// </list>
/// Hostile user names and empty passwords are <see cref="AuthResult.Denied"/> before anything is sent. A server that
/// cannot be reached, times out, or refuses the service account is <see cref="AuthResult.Unavailable"/>: the answer
/// "wrong password" would be a lie then. One connection serves all the binds of one authentication.
/// </summary>
internal sealed class LdapAuthenticator : IAuthenticator, IDisposable
{
    /// <summary>LDAP_SERVER_DOWN, libldap's code for a connection that failed or broke.</summary>
    private const int ServerDown = 81;

    /// <summary>Attempts per authentication when the connection breaks (see <see cref="Authenticate"/>).</summary>
    private const int MaxAttempts = 3;

    private readonly LdapSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>The CAs trusted besides the system's: <c>ca_path</c>, or a private copy of <c>ca_file</c>.</summary>
    private readonly string? _trustedDirectory;

    /// <summary>The private directory made for <c>ca_file</c> (deleted on dispose).</summary>
    private readonly DirectoryInfo? _caFileDirectory;

    public LdapAuthenticator(LdapSettings settings, ILogger<LdapAuthenticator> logger, TimeProvider time)
    {
        _settings = settings;
        _logger = logger;
        _time = time;
        if (settings.CaFile is { } caFile)
        {
            // libldap takes extra CAs per connection only as a directory, and trusts every certificate in it: a private
            // directory (mode 0700) holding just this file, so nothing else beside ca_file is trusted.
            _caFileDirectory = Directory.CreateTempSubdirectory("vmpooler-ldap-ca-");
            File.Copy(caFile, Path.Combine(_caFileDirectory.FullName, "ca.pem"));
            _trustedDirectory = _caFileDirectory.FullName;
        }
        else
        {
            _trustedDirectory = settings.CaPath;
        }
    }

    public void Dispose()
    {
        try
        {
            _caFileDirectory?.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public async Task<AuthResult> AuthenticateAsync(string username, string password, CancellationToken cancellationToken)
    {
        if (!LdapNames.IsAcceptableUserName(username))
        {
            AuthLog.UserNameRefused(_logger, username?.Length ?? 0);
            return AuthResult.Denied;
        }

        // An empty password makes a simple bind "unauthenticated" (RFC 4513 §5.1.2), which many servers accept.
        if (string.IsNullOrEmpty(password))
        {
            AuthLog.Denied(_logger, username);
            return AuthResult.Denied;
        }

        // libldap calls block, so they run on the thread pool. Each operation has its own timeout (LdapConnection.Timeout);
        // this outer limit also bounds a server that answers every request slowly. On expiry the blocked thread finishes
        // on its own (bounded by the per-operation timeout) and disposes the connection; it is not torn down under it.
        var work = Task.Run(() => Authenticate(username, password), CancellationToken.None);
        try
        {
            return await work.WaitAsync(_settings.Timeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            AuthLog.Unavailable(_logger, _settings.Host, _settings.Port, "no answer within " + _settings.Timeout.TotalSeconds + " s");
            return AuthResult.Unavailable;
        }
    }

    private AuthResult Authenticate(string username, string password)
    {
        // libldap sometimes reports "server down" (81) against a healthy server: measured about 1 login in 300 (8
        // threads) while the same process kept starting child processes, never without; most likely an interrupted
        // system call (SIGCHLD). A new connection succeeds, and a refused one fails in microseconds, so trying again
        // costs nothing when the server really is down; a hanging one is still bounded by the outer timeout.
        // A retry repeats failed binds, which a lockout policy may count twice.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return AuthenticateOnce(username, password);
            }
            catch (LdapException ex) when (ex.ErrorCode == ServerDown && attempt < MaxAttempts)
            {
            }
            catch (TlsOperationException) when (attempt < MaxAttempts)
            {
                // The StartTLS exchange hit by the same interruption (seen in CI while tests started servers): a new
                // connection negotiates again; a server that really refuses StartTLS refuses every attempt.
            }
            catch (LdapException ex)
            {
                AuthLog.Unavailable(_logger, _settings.Host, _settings.Port, Describe(ex));
                return AuthResult.Unavailable;
            }
            catch (DirectoryException ex)
            {
                // TlsOperationException (StartTLS refused) and other protocol failures outside a bind or a search.
                AuthLog.Unavailable(_logger, _settings.Host, _settings.Port, ex.Message);
                return AuthResult.Unavailable;
            }
        }
    }

    private AuthResult AuthenticateOnce(string username, string password)
    {
        using var connection = Connect();
        foreach (var searchBase in _settings.Bases)
        {
            foreach (var userObject in _settings.UserObjects)
            {
                var result = _settings.ServiceAccount is { } account
                    ? SearchAndBind(connection, account, searchBase, userObject, username, password)
                    : BindAs(connection, userObject + "=" + LdapNames.EscapeDnValue(username) + "," + searchBase, username, password);
                if (result != AuthResult.Denied)
                {
                    return result;
                }
            }
        }

        AuthLog.Denied(_logger, username);
        return AuthResult.Denied;
    }

    private LdapConnection Connect()
    {
        var connection = new LdapConnection(new LdapDirectoryIdentifier(_settings.Host, _settings.Port), credential: null, AuthType.Basic)
        {
            Timeout = _settings.Timeout,
            AutoBind = false,
        };
        try
        {
            connection.SessionOptions.ProtocolVersion = 3;
            connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
            // (Windows' LDAP client has no per-connection CAs: there the system store decides alone.)
            if (_settings.Encryption != LdapEncryption.None && _trustedDirectory is not null && !OperatingSystem.IsWindows())
            {
                connection.SessionOptions.TrustedCertificatesDirectory = _trustedDirectory;
                connection.SessionOptions.StartNewTlsSessionContext();
            }

            switch (_settings.Encryption)
            {
                case LdapEncryption.SimpleTls:
                    connection.SessionOptions.SecureSocketLayer = true;
                    break;
                case LdapEncryption.StartTls:
                    // The Linux client connects on the first operation, and StartTLS on a handle that never connected
                    // fails with "server unavailable": an anonymous read of the root DSE (no attributes, nothing
                    // secret) opens the connection first. A refusal of the read itself does not matter.
                    try
                    {
                        connection.SendRequest(new SearchRequest("", "(objectClass=*)", SearchScope.Base, "1.1"));
                    }
                    catch (DirectoryOperationException)
                    {
                    }

                    connection.SessionOptions.StartTransportLayerSecurity(null);
                    break;
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One simple bind. A refusal (wrong password, no such entry, malformed DN) is <see cref="AuthResult.Denied"/> and
    /// leaves the connection usable (anonymous) for the next try; anything else propagates as unavailability.
    /// </summary>
    private AuthResult BindAs(LdapConnection connection, string dn, string username, string password)
    {
        try
        {
            connection.Bind(new NetworkCredential(dn, password));
            AuthLog.Accepted(_logger, username, dn);
            return AuthResult.Accepted;
        }
        catch (LdapException ex) when (IsRefusal(ex.ErrorCode))
        {
            return AuthResult.Denied;
        }
    }

    private AuthResult SearchAndBind(LdapConnection connection, LdapServiceAccount account, string searchBase, string userObject, string username, string password)
    {
        try
        {
            connection.Bind(new NetworkCredential(account.UserDn, account.Password));
        }
        catch (LdapException ex) when (IsRefusal(ex.ErrorCode))
        {
            // Nobody can log in until the configuration is fixed: say so, instead of blaming the user.
            AuthLog.ServiceAccountFailed(_logger, account.UserDn, Describe(ex));
            return AuthResult.Unavailable;
        }

        // "1.1": no attributes, only the DN. Two entries are enough to know the name is ambiguous.
        var request = new SearchRequest(searchBase, "(" + userObject + "=" + LdapNames.EscapeFilterValue(username) + ")", SearchScope.Subtree, "1.1")
        {
            SizeLimit = 2,
            TimeLimit = _settings.Timeout,
        };
        SearchResponse response;
        try
        {
            response = (SearchResponse)connection.SendRequest(request, _settings.Timeout);
        }
        catch (DirectoryOperationException ex) when (ex.Response?.ResultCode == ResultCode.NoSuchObject)
        {
            return AuthResult.Denied;
        }
        catch (DirectoryOperationException ex) when (ex.Response?.ResultCode == ResultCode.SizeLimitExceeded)
        {
            AuthLog.Ambiguous(_logger, searchBase, userObject, username);
            return AuthResult.Denied;
        }
        catch (DirectoryOperationException ex)
        {
            AuthLog.ServiceAccountFailed(_logger, account.UserDn, ex.Message);
            return AuthResult.Unavailable;
        }

        switch (response.Entries.Count)
        {
            case 0:
                return AuthResult.Denied;
            case 1:
                return BindAs(connection, response.Entries[0].DistinguishedName, username, password);
            default:
                AuthLog.Ambiguous(_logger, searchBase, userObject, username);
                return AuthResult.Denied;
        }
    }

    /// <summary>
    /// LDAP result codes that answer "not with these credentials": invalidCredentials (49), invalidDNSyntax (34),
    /// noSuchObject (32), inappropriateAuthentication (48), insufficientAccessRights (50), unwillingToPerform (53,
    /// e.g. an unauthenticated bind) and constraintViolation (19, e.g. a locked account). Everything else — server
    /// down (81), timeout (85), connect error (91), busy (51), unavailable (52), TLS failures — means the directory
    /// could not be asked.
    /// </summary>
    internal static bool IsRefusal(int resultCode) => resultCode is 19 or 32 or 34 or 48 or 49 or 50 or 53;

    private static string Describe(LdapException ex)
        => string.IsNullOrEmpty(ex.ServerErrorMessage) ? $"{ex.Message} (code {ex.ErrorCode})" : $"{ex.Message} (code {ex.ErrorCode}: {ex.ServerErrorMessage})";
}
