using Emergence.Functions.Health;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;

namespace Emergence.Functions.Backups;

/// <summary>
/// A backup taken by the function app, and what follows every one, whatever its outcome: the timer
/// (<c>ScheduledBackup</c>) and <c>POST /api/backups</c> take theirs here; startup's backups are
/// followed the same way by the upload run the uploader asks for once startup has finished.
/// The rule: after every backup attempt (written, failed, or refused because another one runs) an
/// off-volume upload run is requested, since it copies every verified backup the container lacks, so
/// even a failed attempt retries an earlier upload that failed; and health measures again.
/// </summary>
public sealed class AppBackup(BackupService backups, BackupUploadService offsite, HealthCache health)
{
    /// <summary>Takes a verified backup (as <see cref="BackupService.CreateAsync"/> does, exceptions included), then what follows it.</summary>
    public async Task<BackupManifest> TakeAsync(DatabaseLocation location, BackupReason reason, TimeSpan lockWait, CancellationToken cancellationToken)
    {
        try
        {
            return await backups.CreateAsync(location, reason, lockWait, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            offsite.Request();
            health.Invalidate();
        }
    }
}
