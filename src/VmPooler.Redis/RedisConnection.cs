using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using VmPooler.Core.Configuration;
using VmPooler.Core.Diagnostics;
using VmPooler.Core.Inventory;

namespace VmPooler.Redis;

/// <summary>
/// One multiplexed connection to Redis (a single server, a cluster, or the primary the sentinels name) shared by the
/// whole process. It connects in the background and keeps reconnecting, so start-up never hangs on a Redis that is
/// down; operations then fail fast and the API answers 503, naming the cause (refused password, untrusted certificate,
/// a command the ACL denies …), until Redis is back.
/// </summary>
public sealed partial class RedisConnection : IAsyncDisposable, IDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;
    private readonly ILogger _logger;
    private readonly RedisFailure _failure;
    private readonly ConcurrentDictionary<string, bool> _deniedLogged = new(StringComparer.Ordinal);

    private RedisConnection(ConnectionMultiplexer multiplexer, RedisOptions options, RedisFailure failure, ILogger logger)
    {
        _multiplexer = multiplexer;
        _logger = logger;
        _failure = failure;
        Options = options;
        Keys = new RedisKeys(options.KeyPrefix);
        _multiplexer.ConnectionFailed += (_, e) =>
        {
            var cause = _failure.Record(e.FailureType, e.Exception);
            LogConnectionFailed(_logger, e.EndPoint?.ToString() ?? "?", cause);
        };
        _multiplexer.ConnectionRestored += (_, e) =>
        {
            _failure.Clear();
            LogConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");
        };
        _multiplexer.ConfigurationChangedBroadcast += (_, e) => LogTopologyChanged(_logger, e.EndPoint?.ToString() ?? "?");
    }

    public RedisOptions Options { get; }

    public RedisKeys Keys { get; }

    public IDatabase Database => _multiplexer.GetDatabase();

    public ISubscriber Subscriber => _multiplexer.GetSubscriber();

    public bool IsConnected => _multiplexer.IsConnected;

    /// <summary>True when connected to a Redis Cluster: a multi-key call must then keep to one hash slot.</summary>
    public bool IsCluster => _multiplexer.GetServers().Any(s => s.IsConnected && s.ServerType == ServerType.Cluster);

    /// <summary>The hash slot of <paramref name="key"/> (its hash tag's, when it has one).</summary>
    public int HashSlot(RedisKey key) => _multiplexer.HashSlot(key);

    /// <summary>
    /// Runs one Redis operation: the client bounds it by <c>operation_timeout</c>; a lost connection, a timeout or a
    /// Redis error becomes an <see cref="InventoryUnavailableException"/> naming the cause (the API answers 503; the
    /// manager backs off).
    /// </summary>
    public async Task<T> GuardAsync<T>(Func<Task<T>> operation, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!IsConnected && _failure.Cause is { } known)
        {
            throw new InventoryUnavailableException($"the inventory (Redis) is unavailable: not connected ({known})");
        }

        // While disconnected the client fails the command at once, with the cause of the last failed connect.
        try
        {
            return await operation();
        }
        catch (RedisTimeoutException ex)
        {
            throw new InventoryUnavailableException($"the inventory (Redis) did not answer within {Options.OperationTimeout.TotalSeconds:0.###} s", ex);
        }
        catch (RedisConnectionException ex)
        {
            var cause = _failure.Record(ex.FailureType, ex.InnerException ?? ex);
            throw new InventoryUnavailableException($"the inventory (Redis) is unavailable: not connected ({cause})", ex);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOPERM", StringComparison.Ordinal))
        {
            if (_deniedLogged.TryAdd(ex.Message, true))
            {
                LogCommandDenied(_logger, Options.Username ?? "default", ex.Message);
            }

            throw new InventoryUnavailableException($"the inventory (Redis) refused a command: {ex.Message} (the ACL of redis.username lacks it; see docs/configuration.md)", ex);
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

    /// <summary>
    /// Subscribes <paramref name="handler"/> to <paramref name="channel"/>; while Redis is not connected yet, as soon as
    /// it is (the client re-subscribes by itself after later reconnects).
    /// </summary>
    public void Subscribe(RedisChannel channel, Action<RedisChannel, RedisValue> handler)
    {
        try
        {
            _multiplexer.GetSubscriber().Subscribe(channel, handler);
        }
        catch (RedisConnectionException ex)
        {
            LogSubscribeDeferred(_logger, channel.ToString(), ex.FailureType.ToString());
            EventHandler<ConnectionFailedEventArgs>? retry = null;
            retry = (_, _) =>
            {
                try
                {
                    _multiplexer.GetSubscriber().Subscribe(channel, handler);
                    _multiplexer.ConnectionRestored -= retry;
                }
                catch (RedisConnectionException)
                {
                    // The subscription connection is not up yet: the next restore tries again.
                }
            };
            _multiplexer.ConnectionRestored += retry;
        }
    }

    /// <summary>
    /// With <c>durability: replica</c>, waits until a replica has every write made so far on this connection
    /// (<c>WAIT 1 &lt;durability_timeout&gt;</c>); false when none confirmed in time. Always true with <c>none</c>.
    /// </summary>
    public async Task<bool> ConfirmWritesAsync()
    {
        if (Options.Durability != RedisDurability.Replica)
        {
            return true;
        }

        var timeoutMs = (long)Options.DurabilityTimeout.TotalMilliseconds;
        var replicas = (long)await Database.ExecuteAsync("WAIT", 1, timeoutMs);
        if (replicas >= 1)
        {
            return true;
        }

        LogReplicaNotConfirmed(_logger, Options.DurabilityTimeout.TotalSeconds);
        return false;
    }

    /// <summary>Starts connecting to the configured endpoints (or sentinels) without waiting for Redis to answer.</summary>
    public static RedisConnection Connect(RedisOptions options, ILogger<RedisConnection> logger)
    {
        var failure = new RedisFailure();
        var configuration = RedisClientConfiguration.Create(options, reason => failure.RecordCertificate(reason, logger));
        var multiplexer = ConnectionMultiplexer.Connect(configuration);
        var connection = new RedisConnection(multiplexer, options, failure, logger);
        if (!multiplexer.IsConnected)
        {
            LogFirstConnectFailed(logger, Describe(options), connection.ProbeCause());
        }

        return connection;
    }

    /// <summary>Why no connection is up: a PING fails at once while disconnected and carries the last connect failure.</summary>
    private string ProbeCause()
    {
        try
        {
            _multiplexer.GetDatabase().Ping();
            return _failure.Cause ?? "connected meanwhile";
        }
        catch (RedisConnectionException ex)
        {
            return _failure.Record(ex.FailureType, ex.InnerException ?? ex);
        }
        catch (RedisException ex)
        {
            return ex.Message;
        }
    }

    private static string Describe(RedisOptions options)
        => options.Sentinels.Count > 0
            ? $"service {options.SentinelService} via sentinels {string.Join(",", options.Sentinels)}"
            : string.Join(",", options.Endpoints);

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

    [LoggerMessage(EventIds.RedisConnectFailed, LogLevel.Warning, "[redis] could not connect to {Endpoints}: {Failure}; retrying in the background")]
    private static partial void LogFirstConnectFailed(ILogger logger, string endpoints, string failure);

    [LoggerMessage(EventIds.RedisCommandDenied, LogLevel.Error, "[redis] the ACL of user '{User}' denies a command the inventory needs: {Error}")]
    private static partial void LogCommandDenied(ILogger logger, string user, string error);

    [LoggerMessage(EventIds.RedisReplicaNotConfirmed, LogLevel.Warning, "[redis] no replica confirmed a change within {Seconds} s (durability: replica)")]
    private static partial void LogReplicaNotConfirmed(ILogger logger, double seconds);

    [LoggerMessage(EventIds.RedisUnavailable, LogLevel.Information, "[redis] subscription to {Channel} deferred until Redis is connected ({Failure})")]
    private static partial void LogSubscribeDeferred(ILogger logger, string channel, string failure);

    [LoggerMessage(EventIds.RedisTopologyChanged, LogLevel.Information, "[redis] {Endpoint} announced a configuration change (failover); following it")]
    private static partial void LogTopologyChanged(ILogger logger, string endpoint);
}
