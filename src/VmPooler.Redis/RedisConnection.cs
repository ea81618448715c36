using System.Reflection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Redis;

/// <summary>
/// One multiplexed connection to Redis (a single server or a cluster) shared by the whole process. It connects in the
/// background and keeps reconnecting, so start-up never hangs on a Redis that is down; operations then fail fast and
/// the API answers 503 until Redis is back.
/// </summary>
public sealed partial class RedisConnection : IAsyncDisposable, IDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;
    private readonly ILogger _logger;
    private volatile string? _lastFailure;

    /// <summary>The client's generic failure when no connection could be made, whatever the cause.</summary>
    private const string Unresolved = nameof(ConnectionFailureType.UnableToResolvePhysicalConnection);

    private RedisConnection(ConnectionMultiplexer multiplexer, RedisOptions options, ILogger logger)
    {
        _multiplexer = multiplexer;
        _logger = logger;
        Options = options;
        Keys = new RedisKeys(options.KeyPrefix);
        _multiplexer.ConnectionFailed += (_, e) =>
        {
            var failure = e.FailureType.ToString();
            // A retry that found no usable connection says so generically; keep the cause seen before it (e.g. a refused password).
            if (failure != Unresolved || _lastFailure is null)
            {
                _lastFailure = failure;
            }

            LogConnectionFailed(_logger, e.EndPoint?.ToString() ?? "?", failure);
        };
        _multiplexer.ConnectionRestored += (_, e) =>
        {
            _lastFailure = null;
            LogConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");
        };
    }

    public RedisOptions Options { get; }

    public RedisKeys Keys { get; }

    public IDatabase Database => _multiplexer.GetDatabase();

    public ISubscriber Subscriber => _multiplexer.GetSubscriber();

    public bool IsConnected => _multiplexer.IsConnected;

    /// <summary>
    /// Runs one Redis operation within <c>operation_timeout</c>: a lost connection, a timeout or a Redis error becomes an
    /// <see cref="InventoryUnavailableException"/> (the API answers 503; the manager backs off).
    /// </summary>
    public async Task<T> GuardAsync<T>(Func<Task<T>> operation, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (!IsConnected)
        {
            // The failure says why (e.g. AuthenticationFailure for a wrong password, SocketFailure for a server that is down).
            throw new InventoryUnavailableException(
                "the inventory (Redis) is unavailable: not connected" + (_lastFailure is { } failure ? $" ({failure})" : ""));
        }

        var timeout = TimeSpan.FromSeconds(Options.OperationTimeoutSeconds);
        try
        {
            return await operation().WaitAsync(timeout, timeProvider, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new InventoryUnavailableException($"the inventory (Redis) did not answer within {timeout.TotalSeconds:0.#} s", ex);
        }
        catch (RedisException ex)
        {
            throw new InventoryUnavailableException("the inventory (Redis) is unavailable: " + ex.Message, ex);
        }
    }

    /// <summary><see cref="GuardAsync{T}"/> for operations without a result.</summary>
    public Task GuardAsync(Func<Task> operation, TimeProvider timeProvider, CancellationToken cancellationToken)
        => GuardAsync(
            async () =>
            {
                await operation();
                return true;
            },
            timeProvider,
            cancellationToken);

    /// <summary>Starts connecting to the configured endpoints without waiting for Redis to answer.</summary>
    public static RedisConnection Connect(RedisOptions options, ILogger<RedisConnection> logger)
    {
        var configuration = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = 2000,
            SyncTimeout = (int)Math.Max(500, options.OperationTimeoutSeconds * 1000),
            ResponseTimeout = (int)Math.Max(500, options.OperationTimeoutSeconds * 1000),
            ConnectRetry = 3,
            KeepAlive = 5,
            ReconnectRetryPolicy = new LinearRetry(1000),
            ClientName = "vmpooler",
            Password = options.Password,
        };
        foreach (var endpoint in options.Endpoints)
        {
            configuration.EndPoints.Add(endpoint);
        }

        if (options.Username is { Length: > 0 } username && username != "default")
        {
            // StackExchange.Redis 1.2.6 (the version available here) sends AUTH with the password alone.
            LogUsernameIgnored(logger, username);
        }

        // The client raises no event for a first connection that fails; its connect log says why ("… faulted:
        // AuthenticationFailure on PING"), so a wrong password is named at start-up and in every 503 until it connects.
        using var log = new StringWriter();
        var multiplexer = ConnectionMultiplexer.Connect(configuration, log);
        var connection = new RedisConnection(multiplexer, options, logger);
        if (!multiplexer.IsConnected)
        {
            // The most telling fault: after an AuthenticationFailure the client may also log the generic "unable to
            // resolve a physical connection" for its retry.
            var faults = FaultPattern().Matches(log.ToString()).Select(m => m.Groups[1].Value).ToList();
            var failure = faults.LastOrDefault(f => f != Unresolved) ?? faults.LastOrDefault() ?? "no answer";
            connection._lastFailure ??= failure;
            LogFirstConnectFailed(logger, string.Join(",", options.Endpoints), failure, failure == "AuthenticationFailure" ? " (check redis.password)" : "");
        }

        return connection;
    }

    /// <summary>Loads a script from the assembly's resources, with the shared prelude in front for per-pool scripts.</summary>
    internal static string LoadScript(string name, bool withPrelude)
    {
        var text = ReadResource(name);
        return withPrelude ? ReadResource("_prelude") + "\n" + text : text;
    }

    private static string ReadResource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"VmPooler.Redis.Scripts.{name}.lua")
            ?? throw new InvalidOperationException($"missing embedded script {name}.lua");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public void Dispose() => _multiplexer.Dispose();

    public async ValueTask DisposeAsync()
    {
        await _multiplexer.CloseAsync();
        _multiplexer.Dispose();
    }

    [LoggerMessage(3001, LogLevel.Warning, "[redis] connection to {Endpoint} failed ({Failure}); reconnecting")]
    private static partial void LogConnectionFailed(ILogger logger, string endpoint, string failure);

    [LoggerMessage(3002, LogLevel.Information, "[redis] connection to {Endpoint} restored")]
    private static partial void LogConnectionRestored(ILogger logger, string endpoint);

    [LoggerMessage(3003, LogLevel.Warning, "[redis] could not connect to {Endpoints}: {Failure}{Hint}; retrying in the background")]
    private static partial void LogFirstConnectFailed(ILogger logger, string endpoints, string failure, string hint);

    [LoggerMessage(3004, LogLevel.Warning, "[redis] redis.username '{Username}' is not used: this client authenticates as Redis's default user with redis.password")]
    private static partial void LogUsernameIgnored(ILogger logger, string username);

    [System.Text.RegularExpressions.GeneratedRegex(@"faulted: (\w+)")]
    private static partial System.Text.RegularExpressions.Regex FaultPattern();
}
