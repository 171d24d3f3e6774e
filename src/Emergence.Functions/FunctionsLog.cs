using Microsoft.Extensions.Logging;

namespace Emergence.Functions;

/// <summary>Log events of the function app itself (ids 5xxx); the library's are in <c>PersistenceLog</c>.</summary>
internal static partial class FunctionsLog
{
    /// <summary>The timer fired but startup had failed, so no backup was attempted.</summary>
    [LoggerMessage(EventId = 5001, EventName = "ScheduledBackupSkipped", Level = LogLevel.Warning,
        Message = "Scheduled backup skipped: {StartupFailure}")]
    public static partial void ScheduledBackupSkipped(ILogger logger, string startupFailure);

    /// <summary>The drill timer fired but there was nothing to drill, or startup had failed.</summary>
    [LoggerMessage(EventId = 5002, EventName = "RestoreDrillSkipped", Level = LogLevel.Information,
        Message = "Restore drill skipped: {Reason}")]
    public static partial void RestoreDrillSkipped(ILogger logger, string reason);
}
