using Microsoft.Extensions.Logging;

namespace VmPooler.Providers.Libvirt;

/// <summary>The libvirt provider's log lines. Event ids 43xx (the libvirt part of the 4xxx provider range).</summary>
internal static partial class LibvirtLog
{
    [LoggerMessage(4301, LogLevel.Warning, "[libvirt] Host {Uri} is down: {Reason}")]
    public static partial void HostDown(ILogger logger, string uri, string reason);

    [LoggerMessage(4302, LogLevel.Information, "[libvirt] Host {Uri} is reachable again")]
    public static partial void HostUp(ILogger logger, string uri);

    [LoggerMessage(4303, LogLevel.Information, "[libvirt] Connection to {Uri} lost ({Reason}); reconnecting on the next call")]
    public static partial void ConnectionLost(ILogger logger, string uri, string reason);

    [LoggerMessage(4304, LogLevel.Information, "[libvirt] [{Pool}] '{Vm}' cloned from '{Template}' on {Uri} in {Milliseconds} ms")]
    public static partial void Cloned(ILogger logger, string pool, string vm, string template, string uri, long milliseconds);

    [LoggerMessage(4305, LogLevel.Information, "[libvirt] [{Pool}] '{Vm}' destroyed on {Uri} ({Volumes} volumes deleted)")]
    public static partial void Destroyed(ILogger logger, string pool, string vm, string uri, int volumes);

    [LoggerMessage(4306, LogLevel.Warning, "[libvirt] [{Pool}] clone of '{Vm}' on {Uri} failed, cleaning up: {Error}")]
    public static partial void CloneFailed(ILogger logger, string pool, string vm, string uri, string error);

    [LoggerMessage(4307, LogLevel.Warning, "[libvirt] Host {Uri} skipped for a clone: {Reason}")]
    public static partial void HostSkipped(ILogger logger, string uri, string reason);

    [LoggerMessage(4308, LogLevel.Warning, "[libvirt] [{Pool}] listing {Uri} failed; using its last known {Count} VMs: {Error}")]
    public static partial void ListingFromCache(ILogger logger, string pool, string uri, int count, string error);

    [LoggerMessage(4309, LogLevel.Warning, "[libvirt] [{Pool}] {Operation} of '{Vm}' failed: {Error}")]
    public static partial void OperationFailed(ILogger logger, string pool, string operation, string vm, string error);
}
