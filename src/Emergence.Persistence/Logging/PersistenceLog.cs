using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Logging;

/// <summary>
/// Every log event the library writes, with a stable id and name and named properties, so an
/// operator can search for them. Ids: 1xxx volume and lock, 2xxx backups, 3xxx recovery,
/// 4xxx database and migrations, 6xxx off-volume copies and restore drills, 7xxx WAL replication.
/// </summary>
public static partial class PersistenceLog
{
    /// <summary>The database directory is missing, not writable or not on a volume.</summary>
    [LoggerMessage(EventId = 1001, EventName = "VolumeProblem", Level = LogLevel.Error,
        Message = "Volume problem at {Path}: {Problem}. Process uid {Uid} gid {Gid}; directory owner {OwnerUid}:{OwnerGid} mode {Mode}; filesystem {Filesystem} mounted at {MountPoint}; OS error: {OsError}")]
    public static partial void VolumeProblem(ILogger logger, string path, string problem, uint? uid, uint? gid, uint? ownerUid, uint? ownerGid, string? mode, string? filesystem, string? mountPoint, string? osError);

    /// <summary>The database is not where it was configured: the fallback directory is in use.</summary>
    [LoggerMessage(EventId = 1002, EventName = "FallbackInUse", Level = LogLevel.Error,
        Message = "FALLBACK IN USE: the database directory {ConfiguredPath} cannot be used ({Reason}); using {FallbackPath} instead. Data written there may not survive a redeploy.")]
    public static partial void FallbackInUse(ILogger logger, string configuredPath, string fallbackPath, string reason);

    /// <summary>The volume's state changed while the app was running.</summary>
    [LoggerMessage(EventId = 1003, EventName = "VolumeStatusChanged", Level = LogLevel.Warning,
        Message = "Volume status of {Path} changed: {From} -> {To}")]
    public static partial void VolumeStatusChanged(ILogger logger, string path, string from, string to);

    /// <summary>A missing database directory was created.</summary>
    [LoggerMessage(EventId = 1004, EventName = "VolumeDirectoryCreated", Level = LogLevel.Information,
        Message = "Created the database directory {Path}")]
    public static partial void VolumeDirectoryCreated(ILogger logger, string path);

    /// <summary>Another process holds the volume lock; this one waits.</summary>
    [LoggerMessage(EventId = 1010, EventName = "LockWaiting", Level = LogLevel.Warning,
        Message = "Waiting up to {TimeoutSeconds} s for the volume lock {LockPath}, held by {Holder}")]
    public static partial void LockWaiting(ILogger logger, string lockPath, string holder, double timeoutSeconds);

    /// <summary>The volume lock was acquired after waiting for it.</summary>
    [LoggerMessage(EventId = 1011, EventName = "LockAcquiredAfterWait", Level = LogLevel.Information,
        Message = "Acquired the volume lock {LockPath} after {WaitedSeconds:0.0} s")]
    public static partial void LockAcquiredAfterWait(ILogger logger, string lockPath, double waitedSeconds);

    /// <summary>A backup is starting.</summary>
    [LoggerMessage(EventId = 2001, EventName = "BackupStarted", Level = LogLevel.Information,
        Message = "Backup ({Reason}) of {SourcePath} started")]
    public static partial void BackupStarted(ILogger logger, string reason, string sourcePath);

    /// <summary>A backup was written, verified and given its manifest.</summary>
    [LoggerMessage(EventId = 2002, EventName = "BackupCompleted", Level = LogLevel.Information,
        Message = "Backup ({Reason}) completed: {BackupPath}, {Size} bytes in {DurationMs} ms, sha256 {Checksum}")]
    public static partial void BackupCompleted(ILogger logger, string reason, string backupPath, long size, long durationMs, string checksum);

    /// <summary>A backup failed; its partial files were removed.</summary>
    [LoggerMessage(EventId = 2003, EventName = "BackupFailed", Level = LogLevel.Error,
        Message = "Backup ({Reason}) failed at step {Step} on {Path}: {Cause}. Partial files were removed; earlier backups are untouched.")]
    public static partial void BackupFailed(ILogger logger, Exception exception, string reason, string step, string path, string cause);

    /// <summary>Rotation deleted backups beyond the retention count.</summary>
    [LoggerMessage(EventId = 2004, EventName = "BackupRotated", Level = LogLevel.Information,
        Message = "Rotation kept {Kept} backups and deleted {DeletedCount}: {Deleted}")]
    public static partial void BackupRotated(ILogger logger, int kept, int deletedCount, string deleted);

    /// <summary>Leftovers of interrupted backups were removed.</summary>
    [LoggerMessage(EventId = 2005, EventName = "BackupLeftoversSwept", Level = LogLevel.Warning,
        Message = "Removed {Count} leftover files of interrupted backups: {Files}")]
    public static partial void BackupLeftoversSwept(ILogger logger, int count, string files);

    /// <summary>A conditional backup found the database identical to the newest backup and kept nothing.</summary>
    [LoggerMessage(EventId = 2006, EventName = "BackupUnchanged", Level = LogLevel.Information,
        Message = "{DatabasePath} is unchanged since backup {BackupName}; no new backup kept")]
    public static partial void BackupUnchanged(ILogger logger, string databasePath, string backupName);

    /// <summary>A backup was taken of a database that lost every table since the newest good backup.</summary>
    [LoggerMessage(EventId = 2007, EventName = "BackupSuspect", Level = LogLevel.Warning,
        Message = "Backup {BackupName} of {DatabasePath} is suspect: {Why}; it is kept apart, and {GoodBackup} stays the newest good backup")]
    public static partial void BackupSuspect(ILogger logger, string backupName, string databasePath, string why, string goodBackup);

    /// <summary>Old quarantine directories were deleted beyond the bound.</summary>
    [LoggerMessage(EventId = 2008, EventName = "QuarantinePruned", Level = LogLevel.Information,
        Message = "Deleted {Count} old quarantine directories in {QuarantinePath}: {Deleted}")]
    public static partial void QuarantinePruned(ILogger logger, string quarantinePath, int count, string deleted);

    /// <summary>Rotation kept backups its tiers would delete, because the restore window's history starts from them.</summary>
    [LoggerMessage(EventId = 2009, EventName = "BackupHeldForWindow", Level = LogLevel.Information,
        Message = "Rotation kept {Count} backups beyond its tiers: the restore window's history starts from them: {Held}")]
    public static partial void BackupHeldForWindow(ILogger logger, int count, string held);

    /// <summary>A check of the live database failed.</summary>
    [LoggerMessage(EventId = 4006, EventName = "DatabaseIntegrityFailed", Level = LogLevel.Error,
        Message = "The database {DatabasePath} failed its integrity check ({Source}): {Result}")]
    public static partial void DatabaseIntegrityFailed(ILogger logger, string databasePath, string source, string result);

    /// <summary>Startup is waiting for a required volume.</summary>
    [LoggerMessage(EventId = 1005, EventName = "VolumeAwaited", Level = LogLevel.Error,
        Message = "Waiting for the volume: {Problem}. No database or backup is created until it is there; checking again in {RetrySeconds} s")]
    public static partial void VolumeAwaited(ILogger logger, string problem, int retrySeconds);

    /// <summary>A backup was restored over (or in place of) the database.</summary>
    [LoggerMessage(EventId = 3001, EventName = "RestorePerformed", Level = LogLevel.Warning,
        Message = "Restored {DatabasePath} from backup {BackupName} ({Why}); what it replaced was quarantined in {QuarantinePath}")]
    public static partial void RestorePerformed(ILogger logger, string databasePath, string backupName, string why, string quarantinePath);

    /// <summary>A backup failed verification and was skipped.</summary>
    [LoggerMessage(EventId = 3002, EventName = "BackupVerificationFailed", Level = LogLevel.Warning,
        Message = "Backup {BackupName} failed verification: {Reason}")]
    public static partial void BackupVerificationFailed(ILogger logger, string backupName, string reason);

    /// <summary>The database needed recovery but no backup could be restored.</summary>
    [LoggerMessage(EventId = 3003, EventName = "RecoveryImpossible", Level = LogLevel.Error,
        Message = "The database {DatabasePath} is {Condition} and could not be recovered: {Reason}")]
    public static partial void RecoveryImpossible(ILogger logger, string databasePath, string condition, string reason);

    /// <summary>An operator's restore request failed; it is kept and not retried.</summary>
    [LoggerMessage(EventId = 3004, EventName = "RestoreRequestFailed", Level = LogLevel.Error,
        Message = "The restore requested in {RequestPath} failed and will not be retried: {Reason}")]
    public static partial void RestoreRequestFailed(ILogger logger, string requestPath, string reason);

    /// <summary>The database cannot be opened or failed its integrity check.</summary>
    [LoggerMessage(EventId = 4001, EventName = "DatabaseUnusable", Level = LogLevel.Error,
        Message = "The database {DatabasePath} is {Condition}: {Detail}")]
    public static partial void DatabaseUnusable(ILogger logger, string databasePath, string condition, string detail);

    /// <summary>A migration was applied.</summary>
    [LoggerMessage(EventId = 4002, EventName = "MigrationApplied", Level = LogLevel.Information,
        Message = "Applied migration {Version} {Name} to {DatabasePath}")]
    public static partial void MigrationApplied(ILogger logger, int version, string name, string databasePath);

    /// <summary>The database was created because none existed and no backup could replace it.</summary>
    [LoggerMessage(EventId = 4003, EventName = "DatabaseCreated", Level = LogLevel.Warning,
        Message = "Created a new, empty database at {DatabasePath}: none existed and there was no backup to restore")]
    public static partial void DatabaseCreated(ILogger logger, string databasePath);

    /// <summary>The startup sequence finished.</summary>
    [LoggerMessage(EventId = 4004, EventName = "StartupCompleted", Level = LogLevel.Information,
        Message = "Startup finished for {DatabasePath}: schema version {UserVersion}, {Outcome}")]
    public static partial void StartupCompleted(ILogger logger, string databasePath, int userVersion, string outcome);

    /// <summary>The startup sequence failed; the app stays up and reports unhealthy.</summary>
    [LoggerMessage(EventId = 4005, EventName = "StartupFailed", Level = LogLevel.Error,
        Message = "Startup failed at step {Step}: {Cause}")]
    public static partial void StartupFailed(ILogger logger, Exception? exception, string step, string cause);
    /// <summary>A backup was copied to the off-volume container.</summary>
    [LoggerMessage(EventId = 6001, EventName = "OffsiteUploaded", Level = LogLevel.Information,
        Message = "Copied backup {Backup} ({Size} bytes) off the volume to container {Container} in {DurationMs} ms, sha256 {Checksum} checked")]
    public static partial void OffsiteUploaded(ILogger logger, string backup, string container, long size, long durationMs, string checksum);

    /// <summary>Copying a backup off the volume failed; the local backup is untouched and the next run retries.</summary>
    [LoggerMessage(EventId = 6002, EventName = "OffsiteUploadFailed", Level = LogLevel.Error,
        Message = "Copying backup {Backup} off the volume to container {Container} failed: {Cause}. The local backup is intact; the next run retries.")]
    public static partial void OffsiteUploadFailed(ILogger logger, Exception? exception, string backup, string container, string cause);

    /// <summary>Off-volume rotation deleted old copies.</summary>
    [LoggerMessage(EventId = 6003, EventName = "OffsiteRotated", Level = LogLevel.Information,
        Message = "Rotated the off-volume container {Container}: deleted {Deleted}")]
    public static partial void OffsiteRotated(ILogger logger, string container, string deleted);

    /// <summary>An off-volume backup failed verification after download and was passed over.</summary>
    [LoggerMessage(EventId = 6004, EventName = "OffsiteVerificationFailed", Level = LogLevel.Warning,
        Message = "Off-volume backup {Backup} in container {Container} failed verification: {Problem}")]
    public static partial void OffsiteVerificationFailed(ILogger logger, string backup, string container, string problem);

    /// <summary>A restore drill downloaded and verified the newest off-volume backup, and replayed and verified the segments after it.</summary>
    [LoggerMessage(EventId = 6005, EventName = "RestoreDrillPassed", Level = LogLevel.Information,
        Message = "Restore drill passed: {Backup} from container {Container} downloaded and verified (sha256 and {Check}), then {Segments} segments replayed onto it and verified, in {DurationMs} ms; the backup is {BackupAgeSeconds} s old, the point restored {PointAgeSeconds} s")]
    public static partial void RestoreDrillPassed(ILogger logger, string backup, string container, string check, int segments, long durationMs, long backupAgeSeconds, long pointAgeSeconds);

    /// <summary>A restore drill failed: the newest off-volume backup could not be downloaded or did not verify.</summary>
    [LoggerMessage(EventId = 6006, EventName = "RestoreDrillFailed", Level = LogLevel.Error,
        Message = "Restore drill failed for container {Container}: {Problem}")]
    public static partial void RestoreDrillFailed(ILogger logger, string container, string problem);

    /// <summary>A generation started: a verified backup as its snapshot, segments from the given log position on.</summary>
    [LoggerMessage(EventId = 7001, EventName = "ReplicationGenerationStarted", Level = LogLevel.Information,
        Message = "Replication of {Database}: generation {Generation} started from backup {Backup} at log position {Position}{After}")]
    public static partial void ReplicationGenerationStarted(ILogger logger, string database, string generation, string backup, string position, string after);

    /// <summary>A generation ended because the history could not be followed; a new one starts from a fresh backup.</summary>
    [LoggerMessage(EventId = 7002, EventName = "ReplicationGenerationEnded", Level = LogLevel.Warning,
        Message = "Replication of {Database}: generation {Generation} ended: {Reason}. A new generation starts from a fresh backup; restores to a point before it use the old one.")]
    public static partial void ReplicationGenerationEnded(ILogger logger, string database, string generation, string reason);

    /// <summary>A replication step failed; it is retried.</summary>
    [LoggerMessage(EventId = 7003, EventName = "ReplicationFailed", Level = LogLevel.Error,
        Message = "Replication of {Database} failed: {Problem}. Retrying in {RetrySeconds} s.")]
    public static partial void ReplicationFailed(ILogger logger, Exception exception, string database, string problem, int retrySeconds);

    /// <summary>The replicator checkpointed so the log can restart (it stays bounded under a steady writer).</summary>
    [LoggerMessage(EventId = 7004, EventName = "ReplicationCheckpoint", Level = LogLevel.Debug,
        Message = "Replication of {Database}: checkpoint at {LogBytes} log bytes: {Checkpointed} of {Frames} frames in the database file")]
    public static partial void ReplicationCheckpoint(ILogger logger, string database, long logBytes, int checkpointed, int frames);

    /// <summary>A replay stopped before a segment that is missing, damaged or does not follow.</summary>
    [LoggerMessage(EventId = 7005, EventName = "ReplayStopped", Level = LogLevel.Warning,
        Message = "Replay of generation {Generation} stopped before segment {Segment}: {Problem}. The restore ends at the last whole commit before it ({LastCommitAt}).")]
    public static partial void ReplayStopped(ILogger logger, string generation, string segment, string problem, string lastCommitAt);

    /// <summary>History no point of the restore window needs was deleted (files merged into a coarser level, or older than the window).</summary>
    [LoggerMessage(EventId = 7006, EventName = "SegmentsPruned", Level = LogLevel.Information,
        Message = "Replication: deleted {Count} history files and {Generations} generations that no point of the restore window needs (it starts {Oldest}) from {Store}")]
    public static partial void SegmentsPruned(ILogger logger, int count, int generations, string oldest, string store);

    /// <summary>Copying segments off the volume failed; the next pass tries again from the first not copied.</summary>
    [LoggerMessage(EventId = 7007, EventName = "SegmentUploadFailed", Level = LogLevel.Error,
        Message = "Replication: copying segments of {Database} to container {Container} failed: {Problem}. Retrying in {RetrySeconds} s.")]
    public static partial void SegmentUploadFailed(ILogger logger, Exception exception, string database, string container, string problem, int retrySeconds);

    /// <summary>A generation's first copy off the volume: its record is in the container, its segments follow.</summary>
    [LoggerMessage(EventId = 7008, EventName = "GenerationUploaded", Level = LogLevel.Information,
        Message = "Replication: generation {Generation} of {Database} is being copied to container {Container} (snapshot {BaseBackup})")]
    public static partial void GenerationUploaded(ILogger logger, string generation, string database, string container, string baseBackup);

    /// <summary>A stopped replicator continued its generation: the database's content equals the history's newest point, so nothing was committed while it was away.</summary>
    [LoggerMessage(EventId = 7009, EventName = "ReplicationResumed", Level = LogLevel.Information,
        Message = "Replication of {Database}: generation {Generation} continues after segment {Segment}: the database's content checksum {ContentHash} equals the history's, so nothing was committed while no replicator ran")]
    public static partial void ReplicationResumed(ILogger logger, string database, string generation, string segment, string contentHash);

    /// <summary>The wall clock went back below the generation's last commit time: commits keep that time until the clock passes it.</summary>
    [LoggerMessage(EventId = 7010, EventName = "ReplicationClockWentBack", Level = LogLevel.Warning,
        Message = "Replication of {Database}: the clock reads {Now}, {BehindSeconds} s before the last commit time {Last} of generation {Generation}; commits are stamped no earlier than the one before them")]
    public static partial void ReplicationClockWentBack(ILogger logger, string database, string now, long behindSeconds, string last, string generation);

    /// <summary>A restore candidate was refused: what its replay produced is not the state the history recorded.</summary>
    [LoggerMessage(EventId = 7011, EventName = "RestoreProofFailed", Level = LogLevel.Error,
        Message = "Restore candidate {Backup} refused: {Problem}")]
    public static partial void RestoreProofFailed(ILogger logger, string backup, string problem);

    /// <summary>The object the history uploader wrote last is no longer in a target (a deleted container or bucket, a lost snapshot): it lists the target again and uploads what is missing.</summary>
    [LoggerMessage(EventId = 7012, EventName = "OffsiteObjectMissing", Level = LogLevel.Warning,
        Message = "Replication: {Object} is no longer in {Container}; listing it again and uploading what {Database} is missing there")]
    public static partial void OffsiteObjectMissing(ILogger logger, string @object, string container, string database);

    /// <summary>Merging closed history files into a level file failed; the files stay as they are and the next pass tries again.</summary>
    [LoggerMessage(EventId = 7020, EventName = "HistoryCompactionFailed", Level = LogLevel.Warning,
        Message = "Replication: merging generation {Generation}'s history into level {Level} failed: {Problem}. Its files stay as they are; the next pass tries again.")]
    public static partial void HistoryCompactionFailed(ILogger logger, Exception exception, string generation, int level, string problem);

    /// <summary>The history was thinned to leave the volume room for the database and its next backup: the restore window is shorter than the setting asks.</summary>
    [LoggerMessage(EventId = 7021, EventName = "HistoryThinned", Level = LogLevel.Warning,
        Message = "Replication: deleted {Files} history files ({Bytes} bytes) of {Store} to leave room for the database and its next backup ({Needed} bytes free needed); points can now be restored back to {From}, not the {WindowDays} days asked")]
    public static partial void HistoryThinned(ILogger logger, int files, long bytes, string store, long needed, string from, int windowDays);
}
