using StackExchange.Redis;
using VmPooler.Core.Configuration;

namespace VmPooler.Redis;

/// <summary>The client's settings from the <c>:redis:</c> section: endpoints or sentinels, ACL user, TLS, timeouts.</summary>
internal static class RedisClientConfiguration
{
    public static ConfigurationOptions Create(RedisOptions options, Action<string> onCertificateRejected)
    {
        var timeout = (int)Math.Max(100, options.OperationTimeout.TotalMilliseconds);
        var configuration = new ConfigurationOptions
        {
            // Start-up never waits for Redis; the client keeps reconnecting in the background.
            AbortOnConnectFail = false,
            ConnectTimeout = 2000,
            ConnectRetry = 3,
            // Every operation, async too, ends within operation_timeout (the API answers 503, the manager backs off).
            AsyncTimeout = timeout,
            SyncTimeout = timeout,
            // The client looks for timed-out commands on each heartbeat (1 s by default): often enough to keep the bound.
            HeartbeatInterval = TimeSpan.FromMilliseconds(Math.Clamp(timeout / 5, 50, 1000)),
            // While disconnected, commands fail at once (503 naming the cause) rather than queue up to the timeout.
            BacklogPolicy = BacklogPolicy.FailFast,
            KeepAlive = 5,
            ReconnectRetryPolicy = new LinearRetry(1000),
            ClientName = "vmpooler",
            // No CLIENT SETINFO: Redis before 7.2 lacks it, and the documented ACL need not allow it.
            SetClientLibrary = false,
            // The client's broadcast channel under key_prefix (within the ACL); no tie-breaker key (the sentinels or the
            // cluster name the primary).
            ConfigurationChannel = options.KeyPrefix + ":client",
            TieBreaker = "",
            User = options.Username is { Length: > 0 } user ? user : null,
            Password = options.Password,
        };

        if (options.Sentinels.Count > 0)
        {
            // The sentinels name the primary of the service and announce every failover; the client follows it.
            configuration.ServiceName = options.SentinelService;
            AddEndpoints(configuration, options.Sentinels);
        }
        else
        {
            AddEndpoints(configuration, options.Endpoints);
            // No CONFIG GET on connecting: the documented ACL need not grant it (it would reveal requirepass and
            // masterauth). With sentinels the client sets the command maps itself.
            configuration.CommandMap = CommandMap.Create(new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "CONFIG" }, available: false);
        }

        if (options.Ssl)
        {
            configuration.Ssl = true;
            configuration.SslHost = options.SslHost;
            var check = RedisCertificateCheck.Create(options.SslCaFile, onCertificateRejected);
            configuration.CertificateValidation += check.Validate;
            if (options.SslCertFile is { } cert && options.SslKeyFile is { } key)
            {
                configuration.SetUserPemCertificate(cert, key);
            }
        }

        return configuration;
    }

    private static void AddEndpoints(ConfigurationOptions configuration, IEnumerable<string> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            configuration.EndPoints.Add(endpoint);
        }
    }
}
