using Microsoft.Extensions.Logging;
using VmPooler.Core.Diagnostics;

namespace VmPooler;

/// <summary>Log events of the composition root.</summary>
internal static partial class StartupLog
{
    [LoggerMessage(EventIds.ConfigKeyNotImplemented, LogLevel.Warning, "[!] {Warning}")]
    public static partial void KeyNotImplemented(ILogger logger, string warning);
}
