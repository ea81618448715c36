using Microsoft.Extensions.Logging;
using VmPooler.Core.Diagnostics;

namespace VmPooler.Api;

internal static partial class ApiLog
{
    [LoggerMessage(EventIds.Checkout, LogLevel.Debug, "[api] checked out {Vm} from {Pool} for '{Requested}'")]
    public static partial void CheckedOut(ILogger logger, string vm, string pool, string requested);

    [LoggerMessage(EventIds.CheckoutEmpty, LogLevel.Information, "[api] checkout failed: no ready VM for '{Requested}'")]
    public static partial void CheckoutEmpty(ILogger logger, string requested);

    [LoggerMessage(EventIds.VmReturned, LogLevel.Debug, "[api] {Vm} returned to {Pool}")]
    public static partial void Returned(ILogger logger, string vm, string pool);

    [LoggerMessage(EventIds.VmModified, LogLevel.Debug, "[api] {Vm} modified")]
    public static partial void Modified(ILogger logger, string vm);

    [LoggerMessage(EventIds.RequestLogged, LogLevel.Information, "[api] {Method} {Path} -> {Status}")]
    public static partial void Request(ILogger logger, string method, string path, int status);

    [LoggerMessage(EventIds.TokenCreated, LogLevel.Information, "[api] token {Hint} created for {User}")]
    public static partial void TokenCreated(ILogger logger, string user, string hint);

    [LoggerMessage(EventIds.TokenDeleted, LogLevel.Information, "[api] token {Hint} deleted by {User}")]
    public static partial void TokenDeleted(ILogger logger, string user, string hint);

    [LoggerMessage(EventIds.VmTaskQueued, LogLevel.Information, "[api] {Kind} {Argument} queued for {Vm}")]
    public static partial void TaskQueued(ILogger logger, string kind, string argument, string vm);

    [LoggerMessage(EventIds.OnDemandCreated, LogLevel.Information, "[api] on-demand request {Id} created: {Requested}")]
    public static partial void OnDemandCreated(ILogger logger, string id, string requested);

    [LoggerMessage(EventIds.OnDemandDeleted, LogLevel.Information, "[api] on-demand request {Id} deleted; {Returned} VM(s) returned")]
    public static partial void OnDemandDeleted(ILogger logger, string id, int returned);

    [LoggerMessage(EventIds.PoolConfigChanged, LogLevel.Information, "[api] pool {Pool}: {Setting} set to {Value}")]
    public static partial void PoolConfigChanged(ILogger logger, string pool, string setting, string value);

    [LoggerMessage(EventIds.UnhandledApiError, LogLevel.Error, "[api] unhandled error on {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);
}
