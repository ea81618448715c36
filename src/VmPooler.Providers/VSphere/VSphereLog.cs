using Microsoft.Extensions.Logging;

namespace VmPooler.Providers.VSphere;

/// <summary>The vSphere provider's log lines. Event ids 41xx (the vSphere part of the 4xxx provider range).</summary>
internal static partial class VSphereLog
{
    [LoggerMessage(4101, LogLevel.Information, "[vsphere] Logged in to {Server} as '{User}' (session {Generation})")]
    public static partial void LoggedIn(ILogger logger, string server, string user, int generation);

    [LoggerMessage(4102, LogLevel.Information, "[vsphere] Session with {Server} expired or was terminated: logging in again")]
    public static partial void SessionExpired(ILogger logger, string server);

    [LoggerMessage(4103, LogLevel.Information, "[vsphere] [{Pool}] '{Vm}' cloned from '{Template}' ({CloneKind}) onto {Target}")]
    public static partial void Cloned(ILogger logger, string pool, string vm, string template, string cloneKind, string target);

    [LoggerMessage(4104, LogLevel.Information, "[vsphere] [{Pool}] '{Vm}' was left powered off by the clone: powering it on")]
    public static partial void PoweringOn(ILogger logger, string pool, string vm);

    [LoggerMessage(4105, LogLevel.Information, "[vsphere] Created folder '{Folder}'")]
    public static partial void FolderCreated(ILogger logger, string folder);

    [LoggerMessage(4106, LogLevel.Warning, "[vsphere] Purging folder '{Folder}' of an unconfigured pool ({VmCount} VMs)")]
    public static partial void PurgingFolder(ILogger logger, string folder, int vmCount);

    [LoggerMessage(4107, LogLevel.Warning, "[vsphere] Purging unconfigured folders failed: {Error}")]
    public static partial void PurgeFailed(ILogger logger, string error);

    [LoggerMessage(4108, LogLevel.Warning, "[vsphere] [{Pool}] {Operation} of '{Vm}' failed: {Error}")]
    public static partial void OperationFailed(ILogger logger, string pool, string operation, string vm, string error);

    [LoggerMessage(4109, LogLevel.Debug, "[vsphere] Host ranking for '{Target}': {Hosts}")]
    public static partial void HostRanking(ILogger logger, string target, string hosts);
}
