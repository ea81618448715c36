using Microsoft.Extensions.Logging;
using VmPooler.Core.Diagnostics;

namespace VmPooler.Manager;

/// <summary>The manager's log lines, in the spirit of the original's (<c>[+] [pool] 'vm' cloned in 1.23 seconds</c>).</summary>
internal static partial class ManagerLog
{
    [LoggerMessage(EventIds.ManagerStarting, LogLevel.Information, "[*] Pool manager starting: {PoolCount} pools, task_limit {TaskLimit}")]
    public static partial void Starting(ILogger logger, int poolCount, int taskLimit);

    [LoggerMessage(EventIds.LeaseAcquired, LogLevel.Information, "[*] Manager lease acquired: this process now manages the pools")]
    public static partial void LeaseAcquired(ILogger logger);

    [LoggerMessage(EventIds.LeaseLost, LogLevel.Warning, "[!] Manager lease lost to another manager: standing by")]
    public static partial void LeaseLost(ILogger logger);

    [LoggerMessage(EventIds.StandingBy, LogLevel.Information, "[*] Another manager holds the lease: standing by (it expires {TimeToLive} after its holder stops renewing)")]
    public static partial void StandingBy(ILogger logger, TimeSpan timeToLive);

    [LoggerMessage(EventIds.LeaseUnavailable, LogLevel.Warning, "[!] Manager lease could not be checked: {Error}")]
    public static partial void LeaseUnavailable(ILogger logger, string error);

    [LoggerMessage(EventIds.VmCloned, LogLevel.Information, "[+] [{Pool}] '{Vm}' cloned in {Seconds:0.00} seconds")]
    public static partial void Cloned(ILogger logger, string pool, string vm, double seconds);

    [LoggerMessage(EventIds.CloneFailed, LogLevel.Warning, "[!] [{Pool}] '{Vm}' clone failed: {Error}")]
    public static partial void CloneFailed(ILogger logger, string pool, string vm, string error);

    [LoggerMessage(EventIds.CloneNameExhausted, LogLevel.Warning, "[!] [{Pool}] could not find an unused VM name")]
    public static partial void CloneNameExhausted(ILogger logger, string pool);

    [LoggerMessage(EventIds.VmReady, LogLevel.Information, "[>] [{Pool}] '{Vm}' moved from 'pending' to 'ready' queue ({Seconds:0.00} seconds from clone)")]
    public static partial void Ready(ILogger logger, string pool, string vm, double seconds);

    [LoggerMessage(EventIds.PendingSlow, LogLevel.Warning, "[!] [{Pool}] '{Vm}' has been pending for more than {Minutes} minutes: {Reason}")]
    public static partial void PendingSlow(ILogger logger, string pool, string vm, double minutes, string reason);

    [LoggerMessage(EventIds.PendingTimedOut, LogLevel.Warning, "[!] [{Pool}] '{Vm}' marked as 'failed' after {Minutes} minutes: {Reason}")]
    public static partial void PendingTimedOut(ILogger logger, string pool, string vm, double minutes, string reason);

    [LoggerMessage(EventIds.PendingVanished, LogLevel.Warning, "[!] [{Pool}] '{Vm}' pending VM no longer exists in the provider; removed")]
    public static partial void PendingVanished(ILogger logger, string pool, string vm);

    [LoggerMessage(EventIds.ReadyExpired, LogLevel.Information, "[s] [{Pool}] '{Vm}' reached end of TTL after {Minutes} minutes in 'ready' queue")]
    public static partial void ReadyExpired(ILogger logger, string pool, string vm, double minutes);

    [LoggerMessage(EventIds.ReadyCheckFailed, LogLevel.Warning, "[!] [{Pool}] '{Vm}' failed its ready check and is being replaced: {Reason}")]
    public static partial void ReadyCheckFailed(ILogger logger, string pool, string vm, string reason);

    [LoggerMessage(EventIds.RunningExpired, LogLevel.Information, "[-] [{Pool}] '{Vm}' reached end of lifetime ({Hours} hours) in 'running' queue")]
    public static partial void RunningExpired(ILogger logger, string pool, string vm, double hours);

    [LoggerMessage(EventIds.VmMissing, LogLevel.Warning, "[!] [{Pool}] '{Vm}' is in the '{State}' queue but no longer exists in the provider")]
    public static partial void Missing(ILogger logger, string pool, string vm, string state);

    [LoggerMessage(EventIds.VmDestroyed, LogLevel.Information, "[-] [{Pool}] '{Vm}' destroyed in {Seconds:0.00} seconds")]
    public static partial void Destroyed(ILogger logger, string pool, string vm, double seconds);

    [LoggerMessage(EventIds.DestroyFailed, LogLevel.Warning, "[!] [{Pool}] '{Vm}' destroy failed, will retry: {Error}")]
    public static partial void DestroyFailed(ILogger logger, string pool, string vm, string error);

    [LoggerMessage(EventIds.VmDiscovered, LogLevel.Warning, "[?] [{Pool}] '{Vm}' found in the provider but not in the inventory; it will be destroyed")]
    public static partial void Discovered(ILogger logger, string pool, string vm);

    [LoggerMessage(EventIds.ExcessReady, LogLevel.Information, "[-] [{Pool}] '{Vm}' is over the pool size and is being removed")]
    public static partial void Excess(ILogger logger, string pool, string vm);

    [LoggerMessage(EventIds.InventoryFailed, LogLevel.Warning, "[!] [{Pool}] listing VMs in the provider failed, retrying in {Delay}: {Error}")]
    public static partial void InventoryFailed(ILogger logger, string pool, TimeSpan delay, string error);

    [LoggerMessage(EventIds.PoolPassFailed, LogLevel.Error, "[!] [{Pool}] pool pass failed, retrying in {Delay}")]
    public static partial void PassFailed(ILogger logger, Exception exception, string pool, TimeSpan delay);

    [LoggerMessage(EventIds.InventoryUnavailable, LogLevel.Warning, "[!] [{Pool}] the inventory is unavailable, retrying in {Delay}: {Error}")]
    public static partial void InventoryUnavailable(ILogger logger, string pool, TimeSpan delay, string error);

    [LoggerMessage(EventIds.PoolEmpty, LogLevel.Warning, "[!] [{Pool}] is empty")]
    public static partial void PoolEmpty(ILogger logger, string pool);

    [LoggerMessage(EventIds.ProviderBackoff, LogLevel.Warning, "[!] [{Pool}] {Failures} clone failures in a row; next clone not before {Delay} from now")]
    public static partial void CloneBackoff(ILogger logger, string pool, int failures, TimeSpan delay);

    [LoggerMessage(EventIds.VmTaskDone, LogLevel.Information, "[+] [{Pool}] '{Vm}' {Kind} {Argument} done in {Seconds:0.00} seconds")]
    public static partial void TaskDone(ILogger logger, string pool, string vm, string kind, string argument, double seconds);

    [LoggerMessage(EventIds.VmTaskFailed, LogLevel.Warning, "[!] [{Pool}] '{Vm}' {Kind} {Argument} failed: {Error}")]
    public static partial void TaskFailed(ILogger logger, string pool, string vm, string kind, string argument, string error);

    [LoggerMessage(EventIds.OnDemandDelivered, LogLevel.Information, "[+] [{Pool}] '{Vm}' delivered to on-demand request {Id}")]
    public static partial void OnDemandDelivered(ILogger logger, string pool, string vm, string id);

    [LoggerMessage(EventIds.OnDemandFinished, LogLevel.Information, "[*] on-demand request {Id} is {Status}")]
    public static partial void OnDemandFinished(ILogger logger, string id, string status);

    [LoggerMessage(EventIds.OnDemandVmFailed, LogLevel.Warning, "[!] [{Pool}] '{Vm}' of on-demand request {Id} failed ({Kind}): {Error}")]
    public static partial void OnDemandVmFailed(ILogger logger, string pool, string vm, string id, string kind, string error);

    [LoggerMessage(EventIds.OnDemandFailureNotCounted, LogLevel.Warning, "[!] [{Pool}] the failure of '{Vm}' could not be counted against on-demand request {Id}: {Error}")]
    public static partial void OnDemandFailureNotCounted(ILogger logger, string pool, string vm, string id, string error);

    [LoggerMessage(EventIds.OnDemandFailed, LogLevel.Warning, "[!] on-demand request {Id} failed: {Reason}")]
    public static partial void OnDemandFailed(ILogger logger, string id, string reason);

    [LoggerMessage(EventIds.PoolReset, LogLevel.Information, "[*] [{Pool}] reset: {Count} ready and pending VMs drained")]
    public static partial void PoolDrained(ILogger logger, string pool, int count);

    [LoggerMessage(EventIds.TemplateChanged, LogLevel.Information, "[*] [{Pool}] template changed from '{Old}' to '{New}': draining the pool")]
    public static partial void TemplateChanged(ILogger logger, string pool, string old, string @new);

    [LoggerMessage(EventIds.PendingAbandoned, LogLevel.Warning, "[!] [{Pool}] '{Vm}' will never become ready (its clone did not finish): replaced at once: {Reason}")]
    public static partial void PendingAbandoned(ILogger logger, string pool, string vm, string reason);

    [LoggerMessage(EventIds.PoolsOwned, LogLevel.Information, "[*] Manager '{ManagerId}' now owns {Count} pools (+{Gained} -{Lost})")]
    public static partial void PoolsOwned(ILogger logger, string managerId, int count, int gained, int lost);

    [LoggerMessage(EventIds.OwnershipUnavailable, LogLevel.Warning, "[!] Pool leases could not be renewed: {Error}")]
    public static partial void OwnershipUnavailable(ILogger logger, string error);

    [LoggerMessage(EventIds.OwnershipLapsed, LogLevel.Warning, "[!] Pool leases renewed {Elapsed} after the last renewal, past their time-to-live ({TimeToLive}): the pools' passes were held meanwhile")]
    public static partial void OwnershipLapsed(ILogger logger, TimeSpan elapsed, TimeSpan timeToLive);

    [LoggerMessage(EventIds.PoolsUnmanaged, LogLevel.Warning, "[!] No live manager may own these pools (labels): {Pools}")]
    public static partial void PoolsUnmanaged(ILogger logger, string pools);

    [LoggerMessage(EventIds.TopUpFailed, LogLevel.Warning, "[!] [{Pool}] top-up failed: {Error}")]
    public static partial void TopUpFailed(ILogger logger, string pool, string error);

    [LoggerMessage(EventIds.AddressUnknown, LogLevel.Warning, "[!] [{Pool}] '{Vm}' is ready but its address could not be read: {Error}")]
    public static partial void AddressUnknown(ILogger logger, string pool, string vm, string error);

    [LoggerMessage(EventIds.TasksRecovered, LogLevel.Warning, "[!] Queued tasks of {Pools} pool(s) were not announced (a push or take was interrupted); they will be taken now")]
    public static partial void TasksRecovered(ILogger logger, int pools);
}
