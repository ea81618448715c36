using Microsoft.Extensions.Logging;
using VmPooler.Providers.Libvirt.Native;

namespace VmPooler.Providers.Libvirt;

/// <summary>
/// One libvirt host: one connection to its URI, opened on first use with keep-alive, reopened when it dies (daemon
/// restarted, SSH dropped); at most <c>max_concurrent_per_host</c> calls at once; every call with a time limit. libvirt
/// calls block, so each runs on a pool thread; a call that outlives its limit keeps its slot until it really returns, so
/// a hung host cannot pile up threads. A host whose connection cannot be opened is down: calls fail at once with the
/// reason until <see cref="RetryInterval"/> has passed, then the next call tries again.
/// </summary>
internal sealed class LibvirtHost : IDisposable
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    private readonly LibvirtHostOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();
    private ConnectHandle? _connection;
    private long _retryAt;
    private bool _disposed;

    public LibvirtHost(LibvirtHostOptions options, int maxConcurrent, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _slots = new SemaphoreSlim(maxConcurrent, maxConcurrent);
    }

    public string Uri => _options.Uri;

    /// <summary>The address VMs' forwarded ports are reached on (see <see cref="LibvirtHostOptions.Address"/>).</summary>
    public string Address => _options.Address;

    /// <summary>Why the host is down, or null while it is up (or not yet tried).</summary>
    public string? DownReason { get; private set; }

    /// <summary>Runs <paramref name="call"/> against this host's connection within <paramref name="timeout"/>.</summary>
    public async Task<T> CallAsync<T>(string what, TimeSpan timeout, Func<ConnectHandle, T> call, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
            var work = Task.Run(() => Run(what, call), CancellationToken.None);
            return await work.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new LibvirtConnectionException($"{Uri}: {what} did not finish within {timeout.TotalSeconds:0.#} s", LibvirtErrorCode.OperationTimeout);
        }
    }

    private T Run<T>(string what, Func<ConnectHandle, T> call)
    {
        try
        {
            var connection = Connect();
            try
            {
                return call(connection);
            }
            catch (LibvirtException ex) when (ex is not LibvirtNotFoundException && LibvirtNative.virConnectIsAlive(connection) != 1)
            {
                Drop(connection, ex.Message);
                throw new LibvirtConnectionException($"{Uri}: {what}: connection lost ({ex.Message})", LibvirtErrorCode.NoConnect, ex);
            }
        }
        catch (LibvirtException ex) when (!ex.Message.StartsWith(Uri, StringComparison.Ordinal))
        {
            throw Rewrap(ex, $"{Uri}: {ex.Message}");
        }
        finally
        {
            _slots.Release();
        }
    }

    private static LibvirtException Rewrap(LibvirtException ex, string message) => ex switch
    {
        LibvirtNotFoundException => new LibvirtNotFoundException(message, ex.Code),
        LibvirtConnectionException => new LibvirtConnectionException(message, ex.Code, ex),
        _ => new LibvirtException(message, ex.Code, ex),
    };

    private ConnectHandle Connect()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is { } open)
            {
                if (LibvirtNative.virConnectIsAlive(open) == 1)
                {
                    return open;
                }

                DropLocked(open, "connection closed");
            }

            if (DownReason is not null && _time.GetTimestamp() < _retryAt)
            {
                throw new LibvirtConnectionException($"host is down: {DownReason}", LibvirtErrorCode.NoConnect);
            }

            LibvirtEventLoop.EnsureStarted();
            var connection = LibvirtNative.virConnectOpen(_options.Uri);
            if (connection.IsInvalid)
            {
                connection.Dispose();
                var error = LibvirtException.FromLastError("connecting");
                MarkDown(error.Message);
                throw new LibvirtConnectionException(error.Message, error.Code, error);
            }

            if (LibvirtNative.virConnectSetKeepAlive(connection, (int)_options.KeepAliveInterval.TotalSeconds, (uint)_options.KeepAliveCount) < 0)
            {
                // Local drivers (test:///) have no keep-alive; they cannot lose their peer either.
                LibvirtNative.virResetLastError();
            }

            if (DownReason is not null)
            {
                LibvirtLog.HostUp(_logger, Uri);
            }

            DownReason = null;
            _connection = connection;
            return connection;
        }
    }

    private void MarkDown(string reason)
    {
        if (DownReason is null)
        {
            LibvirtLog.HostDown(_logger, Uri, reason);
        }

        DownReason = reason;
        _retryAt = _time.GetTimestamp() + (long)(RetryInterval.TotalSeconds * _time.TimestampFrequency);
    }

    private void Drop(ConnectHandle connection, string reason)
    {
        lock (_gate)
        {
            DropLocked(connection, reason);
        }
    }

    private void DropLocked(ConnectHandle connection, string reason)
    {
        if (ReferenceEquals(_connection, connection))
        {
            _connection = null;
            LibvirtLog.ConnectionLost(_logger, Uri, reason);
        }

        connection.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _connection?.Dispose();
            _connection = null;
        }
    }
}
