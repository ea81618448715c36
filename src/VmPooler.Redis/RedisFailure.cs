using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using VmPooler.Core.Diagnostics;

namespace VmPooler.Redis;

/// <summary>
/// Why the connection to Redis is down, in words for the log and the 503: the client's failure type plus what the
/// server or the TLS check said (WRONGPASS, an untrusted certificate …). A later generic failure of a retry does not
/// hide the telling cause seen before it.
/// </summary>
internal sealed partial class RedisFailure
{
    private volatile string? _cause;
    private volatile string? _certificate;

    // The server refused the credentials or the TLS check failed: that stays the cause while retries only see the
    // connection drop (the server closes it after WRONGPASS, which the client reports as a socket failure).
    private volatile bool _refused;

    public string? Cause => _cause;

    public string Record(ConnectionFailureType type, Exception? exception)
    {
        // "No connection available" carries the endpoint's own last failure inside it (e.g. AuthenticationFailure).
        for (var e = exception; e is not null && type == ConnectionFailureType.UnableToResolvePhysicalConnection; e = e.InnerException)
        {
            if (e is RedisConnectionException { FailureType: not ConnectionFailureType.UnableToResolvePhysicalConnection } inner)
            {
                type = inner.FailureType;
            }
        }

        var cause = Describe(type, exception);
        if (_cause is null || !(IsGeneric(type) && _refused))
        {
            _cause = cause;
            _refused = type == ConnectionFailureType.AuthenticationFailure || _certificate is not null;
        }

        return _cause ?? cause;
    }

    public void RecordCertificate(string reason, ILogger logger)
    {
        if (_certificate != reason)
        {
            LogCertificateRejected(logger, reason);
        }

        _certificate = reason;
        _cause = "TLS: " + reason;
        _refused = true;
    }

    public void Clear()
    {
        _cause = null;
        _certificate = null;
        _refused = false;
    }

    private static bool IsGeneric(ConnectionFailureType type) => type is ConnectionFailureType.UnableToResolvePhysicalConnection
        or ConnectionFailureType.SocketFailure or ConnectionFailureType.SocketClosed or ConnectionFailureType.ConnectionDisposed;

    private string Describe(ConnectionFailureType type, Exception? exception)
    {
        // A rejected certificate stays the cause until a connection is made: the client reports the torn-down handshake
        // as a mere SocketFailure (or AuthenticationFailure).
        if (_certificate is { } certificate)
        {
            return "TLS: " + certificate;
        }

        var detail = Find<RedisServerException>(exception)?.Message ?? Find<AuthenticationException>(exception)?.Message;
        return type switch
        {
            ConnectionFailureType.AuthenticationFailure when detail is null && _cause is { } known => known,
            ConnectionFailureType.AuthenticationFailure =>
                $"AuthenticationFailure: {detail ?? "the server refused the credentials"} (check redis.username and redis.password)",
            _ when detail is not null => $"{type}: {detail}",
            _ => type.ToString(),
        };
    }

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    [LoggerMessage(EventIds.RedisCertificateRejected, LogLevel.Error, "[redis] TLS: {Reason}")]
    private static partial void LogCertificateRejected(ILogger logger, string reason);
}
