using Microsoft.Extensions.Logging;

namespace VmPooler.Providers.Qemu;

/// <summary>The qemu provider's log lines. Event ids 41xx (the providers range, 4xxx, of <c>EventIds</c>).</summary>
internal static partial class QemuLog
{
    [LoggerMessage(4101, LogLevel.Debug, "[qemu] [{Pool}] '{Vm}' started (pid {Pid}, ssh {Address}:{Port}, {Mode}) in {Milliseconds} ms")]
    public static partial void Started(ILogger logger, string pool, string vm, int pid, string address, int port, string mode, long milliseconds);

    [LoggerMessage(4102, LogLevel.Warning, "[qemu] [{Pool}] '{Vm}': SSH forward {Address}:{Port} is taken, retrying with another")]
    public static partial void PortClash(ILogger logger, string pool, string vm, string address, int port);

    [LoggerMessage(4103, LogLevel.Warning, "[qemu] [{Pool}] '{Vm}': restore from saved state failed, cold-booting instead: {Error}")]
    public static partial void RestoreFailed(ILogger logger, string pool, string vm, string error);

    [LoggerMessage(4104, LogLevel.Information, "[qemu] saved state {Key} for {Image} ready in {Seconds:0.00} s ({Kind}; clones restore from it)")]
    public static partial void SavedStateBuilt(ILogger logger, string key, string image, double seconds, string kind);

    [LoggerMessage(4105, LogLevel.Warning, "[qemu] saved state {Key} could not be built, cold-booting clones: {Error}")]
    public static partial void SavedStateFailed(ILogger logger, string key, string error);

    [LoggerMessage(4106, LogLevel.Information, "[qemu] [{Pool}] '{Vm}' destroyed (pid {Pid}, {How})")]
    public static partial void Destroyed(ILogger logger, string pool, string vm, int pid, string how);

    [LoggerMessage(4107, LogLevel.Information, "[qemu] [{Pool}] '{Vm}' is no longer running: its files are removed")]
    public static partial void Reaped(ILogger logger, string pool, string vm);

    [LoggerMessage(4108, LogLevel.Warning, "[qemu] [{Pool}] '{Vm}' {Operation} failed: {Error}")]
    public static partial void OperationFailed(ILogger logger, string pool, string vm, string operation, string error);

    [LoggerMessage(4109, LogLevel.Warning, "[qemu] [{Pool}] '{Vm}': cannot share the saved RAM, copying it instead: {Reason}")]
    public static partial void SharedRestoreFellBack(ILogger logger, string pool, string vm, string reason);

    [LoggerMessage(4110, LogLevel.Warning, "[qemu] saved state {Key}: this QEMU has no '{Capability}' migration capability, so clones will copy the RAM instead of sharing it")]
    public static partial void NoSharedRam(ILogger logger, string key, string capability);

    [LoggerMessage(4111, LogLevel.Information, "[qemu] saved state {Old} replaced by {New}: its files are removed (clones still running on it keep them until they exit)")]
    public static partial void SavedStateRetired(ILogger logger, string old, string @new);

    [LoggerMessage(4112, LogLevel.Warning, "[qemu] saved state {Key}: the golden VM of {Image} can serve SSH with a host key of its image or one it makes itself, or offers host key types other than ed25519, so each clone can serve such a key until it is given its own or refuse clients that prefer another type: rebuild the guest with guest/build-guest.sh (its sshd serves only the key the host gives each VM)")]
    public static partial void GoldenServesImageKey(ILogger logger, string key, string image);

    [LoggerMessage(4113, LogLevel.Debug, "[qemu] [{Pool}] '{Vm}' restore: running after {RunningMs} ms, then identity (hostname, clock, entropy, host key) {IdentityMs} ms and SSH banner (awaited meanwhile) {SshMs} ms after running")]
    public static partial void RestorePhases(ILogger logger, string pool, string vm, long runningMs, long identityMs, long sshMs);

    [LoggerMessage(4114, LogLevel.Warning, "[qemu] cannot read the first sector of {Disk}, so its clones keep the kernel and initrd: {Error}")]
    public static partial void DiskBootUnknown(ILogger logger, string disk, string error);
}
