using Emergence.Functions.Backups;
using Emergence.Functions.Startup;
using Emergence.Persistence.Backups;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Emergence.Functions.Functions;

/// <summary>
/// The backup timer, on <c>%BACKUP_SCHEDULE%</c>. <c>UseMonitor = false</c> because without Azure
/// Storage a monitored schedule never fires; missed runs are then not caught up by the host, which
/// is why startup takes a backup when the newest is older than the interval.
/// </summary>
public sealed class ScheduledBackupFunction(StartupState state, AppBackup backups, ILogger<ScheduledBackupFunction> logger)
{
    /// <summary>How long a scheduled backup waits for one already running (a manual one, say).</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Takes a verified backup (reason <c>scheduled</c>) and rotates, then what follows every backup
    /// (<see cref="AppBackup"/>). A failure is logged and shown by health; earlier backups stay.
    /// </summary>
    [Function("ScheduledBackup")]
    public async Task Run([TimerTrigger("%BACKUP_SCHEDULE%", UseMonitor = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        if (state.VolumeProblem is { } waiting)
        {
            // Startup may wait for the volume for hours: a timer run must not wait with it.
            FunctionsLog.ScheduledBackupSkipped(logger, waiting);
            return;
        }

        var startup = await state.WhenCompleteAsync(cancellationToken).ConfigureAwait(false);
        if (!startup.Succeeded)
        {
            FunctionsLog.ScheduledBackupSkipped(logger, startup.FailureSentence!);
            return;
        }

        try
        {
            await backups.TakeAsync(startup.Location, BackupReason.Scheduled, LockWait, cancellationToken).ConfigureAwait(false);
        }
        catch (BackupFailedException)
        {
            // Logged (BackupFailed, with step, path and cause) and recorded for health by the backup service.
        }
    }
}
