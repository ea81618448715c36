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

    [LoggerMessage(EventIds.UnhandledApiError, LogLevel.Error, "[api] unhandled error on {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);
}
