using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Volumes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// Puts a verified backup in place of the database. The backup is copied to a temporary file in the
/// database directory and verified there; the current database and its <c>-wal</c>/<c>-shm</c> are
/// kept in <c>quarantine/&lt;stamp&gt;/</c>; the copy is renamed over the database. At every instant
/// the database path holds either the old database or the restored one, complete.
/// </summary>
public sealed class RestoreService(
    SqliteConnectionFactory connections,
    BackupVerifier verifier,
    DatabaseProbe probe,
    BackupDownloader downloader,
    IntegrityRecord integrity,
    TimeProvider time,
    ILogger<RestoreService> logger,
    PersistenceMetrics? metrics = null)
{
    /// <summary>The quarantine directory's name inside the backup directory.</summary>
    public const string QuarantineDirectoryName = "quarantine";

    /// <inheritdoc cref="RestoreCore"/>
    public RestoreResult Restore(DatabaseLocation location, VolumeLock volumeLock, string? backupName, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, CancellationToken cancellationToken = default) =>
        Measure("local", () => RestoreCore(location, volumeLock, backupName, force, why, progress, knownDamaged, cancellationToken));

    /// <inheritdoc cref="RestoreToTimeCore"/>
    public RestoreResult RestoreToTime(DatabaseLocation location, VolumeLock volumeLock, DateTimeOffset? target, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, bool refuseEmptied = false, CancellationToken cancellationToken = default) =>
        Measure("local_point", () => RestoreToTimeCore(location, volumeLock, target, force, why, progress, knownDamaged, refuseEmptied, cancellationToken));

    /// <inheritdoc cref="RestoreOffsiteToTimeAsyncCore"/>
    public Task<RestoreResult> RestoreOffsiteToTimeAsync(DatabaseLocation location, VolumeLock volumeLock, OffsiteStore store, DateTimeOffset? target, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, IReadOnlyList<OffsiteBackup>? listed = null, bool refuseEmptied = false, CancellationToken cancellationToken = default) =>
        MeasureAsync("offsite_point", () => RestoreOffsiteToTimeAsyncCore(location, volumeLock, store, target, force, why, progress, knownDamaged, listed, refuseEmptied, cancellationToken));

    /// <inheritdoc cref="RestoreOffsiteAsyncCore"/>
    public Task<RestoreResult> RestoreOffsiteAsync(DatabaseLocation location, VolumeLock volumeLock, OffsiteStore store, string? backupName, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, CancellationToken cancellationToken = default) =>
        MeasureAsync("offsite", () => RestoreOffsiteAsyncCore(location, volumeLock, store, backupName, force, why, progress, knownDamaged, cancellationToken));

    private RestoreResult Measure(string source, Func<RestoreResult> restore)
    {
        var started = time.GetTimestamp();
        var result = MetricResults.Failed;
        try
        {
            var restored = restore();
            result = MetricResults.Ok;
            return restored;
        }
        finally
        {
            metrics?.RestoreCompleted(source, result, time.GetElapsedTime(started));
        }
    }

    private async Task<RestoreResult> MeasureAsync(string source, Func<Task<RestoreResult>> restore)
    {
        var started = time.GetTimestamp();
        var result = MetricResults.Failed;
        try
        {
            var restored = await restore().ConfigureAwait(false);
            result = MetricResults.Ok;
            return restored;
        }
        finally
        {
            metrics?.RestoreCompleted(source, result, time.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// Restores the backup named <paramref name="backupName"/>, or with <see langword="null"/> the newest
    /// one that verifies (skipping, and logging, those that do not).
    /// </summary>
    /// <param name="location">The database and backup directory.</param>
    /// <param name="volumeLock">The volume lock, held: proof no other process of this app writes the database.</param>
    /// <param name="backupName">A backup's file name, or <see langword="null"/> for the newest good one.</param>
    /// <param name="force">Whether to replace a database that is healthy.</param>
    /// <param name="why">Why the restore happens, for the log.</param>
    /// <param name="progress">Receives copy and check progress.</param>
    /// <param name="knownDamaged">The caller found the database damaged: it is quarantined exactly as found, without first folding its WAL in.</param>
    /// <param name="cancellationToken">Stops the restore before the swap.</param>
    /// <exception cref="InvalidBackupNameException">The name is not a backup's file name.</exception>
    /// <exception cref="RestoreFailedException">Refused, or no backup verified; the database is unchanged.</exception>
    private RestoreResult RestoreCore(DatabaseLocation location, VolumeLock volumeLock, string? backupName, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, CancellationToken cancellationToken = default)
    {
        Prepare(location, volumeLock, backupName, force);
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow());
        IReadOnlyList<BackupEntry> candidates = backupName is null
            ? inventory.RestoreCandidates
            : [inventory.Backups.FirstOrDefault(b => b.Name == backupName)
                ?? throw new RestoreFailedException($"There is no backup named {backupName} in {location.BackupDirectory}.")];
        if (candidates.Count == 0)
        {
            throw new RestoreFailedException($"There is no verified backup in {location.BackupDirectory} to restore.");
        }

        var staged = candidates.Select(c => new Candidate(c.Name, c.Manifest, (staging, ct) =>
            ValueTask.FromResult<(BackupVerification, SegmentReplay.Result?)>((verifier.VerifyCopy(c, staging, IntegrityCheck.Quick, progress, ct), null))));
        // Every local candidate is staged synchronously, so this completes without blocking on anything.
        var (manifest, skipped, _) = FirstThatVerifiesAsync(location, staged, cancellationToken).AsTask().GetAwaiter().GetResult();
        return Complete(location, manifest, why, knownDamaged, skipped);
    }

    /// <summary>
    /// Restores the newest state at or before <paramref name="target"/> (with <see langword="null"/>: the newest
    /// replicated commit): the newest verified backup taken at or before it, then every segment of its
    /// generation up to the last commit seen at or before it, applied to a staging copy that must then pass
    /// a full <c>integrity_check</c>. A candidate whose replay yields a database that fails is skipped for
    /// the next older backup. A replay that stops early (a missing or damaged segment) restores what it reached
    /// and says so in <see cref="RestoreResult.Replay"/>.
    /// </summary>
    /// <exception cref="RestoreFailedException">Refused, nothing at or before the point, or no candidate verified; the database is unchanged.</exception>
    private RestoreResult RestoreToTimeCore(DatabaseLocation location, VolumeLock volumeLock, DateTimeOffset? target, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, bool refuseEmptied = false, CancellationToken cancellationToken = default)
    {
        Prepare(location, volumeLock, null, force);
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow());
        var plans = Timeline.PlansFor(inventory.RestoreCandidates, b => b.Manifest!, b => b.TakenAt, History.ReadAll(location.BackupDirectory, location.DatabasePath), target, b => b.IsSuspect || b.IsFromTheFuture);
        if (plans.Count == 0)
        {
            throw new RestoreFailedException(target is { } t
                ? $"There is no verified backup or provable point at or before {UtcMillisecondsConverter.Format(t)} in {location.BackupDirectory}."
                : $"There is no verified backup in {location.BackupDirectory} to restore.");
        }

        var staged = plans.Select(plan => new Candidate(plan.Backup.Name, plan.Manifest, (staging, ct) =>
        {
            var verification = verifier.VerifyCopy(plan.Backup, staging, IntegrityCheck.Quick, progress, ct);
            return ValueTask.FromResult(verification.Ok ? ReplayOnto(plan, plan.Segments, staging, verification, progress, refuseEmptied, ct) : (verification, null));
        }));
        var (manifest, skipped, replay) = FirstThatVerifiesAsync(location, staged, cancellationToken).AsTask().GetAwaiter().GetResult();
        return CompleteToPoint(location, manifest, why, knownDamaged, skipped, replay!);
    }

    /// <summary>
    /// Restores from the off-volume container the newest state at or before <paramref name="target"/> (with
    /// <see langword="null"/>: the newest commit copied off the volume), as <see cref="RestoreToTime"/> does from
    /// the backup directory: plans from the container's complete backups and history; each candidate backup is
    /// downloaded and verified, the segments of its plan are downloaded into a scratch folder under the backup
    /// directory (deleted afterwards, and by the next restore if this one is killed) and replayed, and the result
    /// must pass <c>integrity_check</c> and prove its content checksum.
    /// <paramref name="listed"/>: the container's backups when the caller has just listed them; listed here otherwise.
    /// </summary>
    /// <exception cref="RestoreFailedException">Refused, the container cannot be read, nothing at or before the point, or no candidate verified; the database is unchanged.</exception>
    private async Task<RestoreResult> RestoreOffsiteToTimeAsyncCore(DatabaseLocation location, VolumeLock volumeLock, OffsiteStore store, DateTimeOffset? target, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, IReadOnlyList<OffsiteBackup>? listed = null, bool refuseEmptied = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        Prepare(location, volumeLock, null, force);
        var remote = new OffsiteHistory(store, location.DatabasePath);
        OffsiteHistory.Listing history;
        try
        {
            listed ??= await store.ListAsync(cancellationToken).ConfigureAwait(false);
            history = await remote.ListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OffsiteUnavailableException ex)
        {
            throw new RestoreFailedException($"The off-volume container {store.Container} cannot be read: {ex.Message}", ex);
        }

        var histories = history.Generations.Select(g => History.Read(g, history.SegmentsOf(g.Id), null, History.Check.Records)).ToList();
        var plans = Timeline.PlansFor([.. listed.Where(b => b.IsComplete)], b => b.Manifest!, b => b.TakenAt, histories, target);
        if (plans.Count == 0)
        {
            throw new RestoreFailedException(target is { } t
                ? $"There is no complete backup or provable point at or before {UtcMillisecondsConverter.Format(t)} in the off-volume container {store.Container}."
                : $"There is no complete backup in the off-volume container {store.Container} to restore.");
        }

        var scratch = Path.Combine(new ReplicationStore(location.BackupDirectory).Root, $"{ReplicationStore.RestoreScratchPrefix}{Guid.NewGuid():N}");
        var staged = plans.Select((plan, n) => new Candidate(plan.Backup.Name, plan.Manifest, async (staging, ct) =>
        {
            var verification = await downloader.FetchAsync(store, plan.Backup, staging, IntegrityCheck.Quick, progress, ct).ConfigureAwait(false);
            if (!verification.Ok)
            {
                return (verification, null);
            }

            var directory = Directory.CreateDirectory(Path.Combine(scratch, n.ToString(CultureInfo.InvariantCulture))).FullName;
            IReadOnlyList<ReplicationStore.StoredSegment> segments;
            try
            {
                segments = await remote.DownloadAsync(plan.Segments, directory, progress, ct).ConfigureAwait(false);
            }
            catch (OffsiteUnavailableException ex)
            {
                throw new RestoreFailedException($"The segments after {plan.Backup.Name} cannot be downloaded from the off-volume container {store.Container}: {ex.Message}. The database is unchanged.", ex);
            }

            return ReplayOnto(plan, segments, staging, verification, progress, refuseEmptied, ct);
        }));
        try
        {
            var (manifest, skipped, replay) = await FirstThatVerifiesAsync(location, staged, cancellationToken).ConfigureAwait(false);
            return CompleteToPoint(location, manifest, $"{why} (from the off-volume container {store.Container})", knownDamaged, skipped, replay!) with { OffsiteContainer = store.Container };
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    private RestoreResult CompleteToPoint(DatabaseLocation location, BackupManifest manifest, string why, bool knownDamaged, List<BackupVerification> skipped, SegmentReplay.Result replay)
    {
        var point = replay.ReachedAt is { } reached ? $" replayed to {UtcMillisecondsConverter.Format(reached)}" : "";
        return Complete(location, manifest, why + point, knownDamaged, skipped) with { Replay = replay };
    }

    /// <summary>
    /// Replays a plan's segments (local files) onto the verified copy in <paramref name="staging"/>, then checks the
    /// result fully and proves it: its content checksum must be the one the history recorded at the point reached.
    /// </summary>
    private (BackupVerification Verification, SegmentReplay.Result? Replay) ReplayOnto<TBackup>(Timeline.Plan<TBackup> plan, IReadOnlyList<ReplicationStore.StoredSegment> segments, string staging,
        BackupVerification verification, IProgress<OperationProgress>? progress, bool refuseEmptied, CancellationToken cancellationToken)
    {
        if (segments.Count > 0)
        {
            progress?.Report(new OperationProgress("integrity_check", 0, 0));
        }

        var outcome = PointReplay.Apply(connections, staging, plan, segments, logger, cancellationToken);
        if (plan.Generation is not null && (segments.Count > 0 || plan.BaseHash is not null))
        {
            metrics?.ProofChecked(outcome.ProofProblem is null);
        }

        if (outcome.Replay.Stopped is null && plan.Problem is not null)
        {
            // The replay reached its planned point, which the history's damage put short of its newest segments.
            outcome = outcome with { Replay = outcome.Replay with { Stopped = plan.Problem } };
            var at = outcome.Replay.ReachedAt is { } reached ? UtcMillisecondsConverter.Format(reached) : "the backup itself";
            PersistenceLog.ReplayStopped(logger, plan.Generation!.Id, plan.StopsBefore!, plan.Problem, at);
        }

        var name = plan.Manifest.Filename;
        var problem = outcome.CheckResult is { } check && check != "ok"
                ? $"after replaying {outcome.Replay.Segments} segments the copy failed integrity_check: {check}"
            : outcome.ProofProblem
            ?? (refuseEmptied && outcome.Replay.Segments > 0 && ContentLoss.LostEveryTable(plan.Manifest, outcome.SchemaObjects ?? -1) is { } loss
                ? $"the replay would end with an emptied database ({loss}), which is not a recovery"
                : null);
        if (problem is not null)
        {
            PersistenceLog.RestoreProofFailed(logger, name, problem);
            return (new BackupVerification(name, false, problem, verification.ChecksumMatches, outcome.CheckResult, "integrity_check"), null);
        }

        return (outcome.CheckResult is null ? verification : verification with { CheckResult = "ok", Check = "integrity_check" }, outcome.Replay);
    }

    /// <summary>
    /// Restores from the off-volume container: the backup named <paramref name="backupName"/>, or with
    /// <see langword="null"/> the newest complete one that downloads and verifies (skipping, and logging,
    /// those that do not). Each candidate is downloaded into the staging file and verified there.
    /// </summary>
    /// <param name="location">The database and backup directory.</param>
    /// <param name="volumeLock">The volume lock, held.</param>
    /// <param name="store">The off-volume container.</param>
    /// <param name="backupName">A backup's name, or <see langword="null"/> for the newest complete one that verifies.</param>
    /// <param name="force">Whether to replace a database that is healthy.</param>
    /// <param name="why">Why the restore happens, for the log.</param>
    /// <param name="progress">Receives download and check progress.</param>
    /// <param name="knownDamaged">The caller found the database damaged: it is quarantined exactly as found.</param>
    /// <param name="cancellationToken">Stops the restore before the swap.</param>
    /// <exception cref="InvalidBackupNameException">The name is not a backup's file name.</exception>
    /// <exception cref="RestoreFailedException">Refused, the container cannot be listed, or no backup verified; the database is unchanged.</exception>
    private async Task<RestoreResult> RestoreOffsiteAsyncCore(DatabaseLocation location, VolumeLock volumeLock, OffsiteStore store, string? backupName, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        Prepare(location, volumeLock, backupName, force);
        IReadOnlyList<OffsiteBackup> listed;
        try
        {
            listed = await store.ListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OffsiteUnavailableException ex)
        {
            throw new RestoreFailedException($"The off-volume container {store.Container} cannot be read: {ex.Message}", ex);
        }

        IReadOnlyList<OffsiteBackup> candidates = backupName is null
            ? [.. listed.Where(b => b.IsComplete)]
            : [listed.FirstOrDefault(b => b.Name == backupName)
                ?? throw new RestoreFailedException($"There is no backup named {backupName} in the off-volume container {store.Container}.")];
        if (candidates.Count == 0)
        {
            throw new RestoreFailedException($"There is no complete backup in the off-volume container {store.Container} to restore.");
        }

        var staged = candidates.Select(c => new Candidate(c.Name, c.Manifest, async (staging, ct) =>
            ((await downloader.FetchAsync(store, c, staging, IntegrityCheck.Quick, progress, ct).ConfigureAwait(false)), (SegmentReplay.Result?)null)));
        var (manifest, skipped, _) = await FirstThatVerifiesAsync(location, staged, cancellationToken).ConfigureAwait(false);
        return Complete(location, manifest, $"{why} (from the off-volume container {store.Container})", knownDamaged, skipped) with { OffsiteContainer = store.Container };
    }

    /// <summary>A backup to try: its name, its manifest when it has one, and how to put a verified copy of it in the staging file.</summary>
    private sealed record Candidate(string Name, BackupManifest? Manifest, Func<string, CancellationToken, ValueTask<(BackupVerification Verification, SegmentReplay.Result? Replay)>> StageInto);

    /// <summary>
    /// Stages the candidates one after the other, newest first, until one verifies: each must fit on the disk,
    /// a full disk stops the search (older candidates would only fail the same way), and one that fails is
    /// skipped (the verifier logged why) and its staging file removed, so it never blocks the next. The verified
    /// copy is left in the staging file; whatever else ends the search removes it.
    /// </summary>
    private static async ValueTask<(BackupManifest Manifest, List<BackupVerification> Skipped, SegmentReplay.Result? Replay)> FirstThatVerifiesAsync(DatabaseLocation location, IEnumerable<Candidate> candidates, CancellationToken cancellationToken)
    {
        var staging = StagingPathFor(location);
        SweepStaging(staging);
        new ReplicationStore(location.BackupDirectory).SweepRestoreScratch();
        var skipped = new List<BackupVerification>();
        try
        {
            foreach (var candidate in candidates)
            {
                cancellationToken.ThrowIfCancellationRequested();
                EnsureRoomFor(location, candidate.Manifest);
                var (verification, replay) = await candidate.StageInto(staging, cancellationToken).ConfigureAwait(false);
                if (verification.Ok)
                {
                    return (candidate.Manifest!, skipped, replay);
                }

                SweepStaging(staging);
                ThrowIfDiskFull(location, candidate.Name, verification);
                skipped.Add(verification);
            }
        }
        catch
        {
            SweepStaging(staging);
            throw;
        }

        throw NoneRestorable(skipped);
    }

    private void Prepare(DatabaseLocation location, VolumeLock volumeLock, string? backupName, bool force)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(volumeLock);
        if (!volumeLock.IsHeld || volumeLock.Path != location.LockPath)
        {
            throw new InvalidOperationException($"A restore needs the volume lock {location.LockPath} held.");
        }

        if (backupName is not null)
        {
            InvalidBackupNameException.ThrowIfNotBackupName(new BackupNaming(location.DatabasePath), backupName);
        }

        // Refusing needs the full quick_check; a forced restore only needs to know whether the database
        // opens, to fold its WAL in before it is quarantined (a quick_check of 1 GiB costs about a second).
        if (!force && probe.Probe(location.DatabasePath).Condition == DatabaseCondition.Healthy)
        {
            throw new RestoreFailedException($"The database {location.DatabasePath} is healthy; refusing to replace it without --force.");
        }
    }

    /// <summary>Swaps the verified staging file in and logs it.</summary>
    private RestoreResult Complete(DatabaseLocation location, BackupManifest manifest, string why, bool knownDamaged, List<BackupVerification> skipped)
    {
        var staging = StagingPathFor(location);
        SweepStaging(staging, keepFile: true);
        string? quarantine;
        try
        {
            quarantine = Swap(location, staging, checkpointFirst: !knownDamaged);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Every step before the final rename leaves the database in place; the rename is atomic.
            SweepStaging(staging);
            throw new RestoreFailedException($"Restoring {manifest.Filename} failed while swapping it in: {ex.Message}. The database was left in place.", ex);
        }

        // What is now in place passed quick_check as the staged copy: the live database's last check.
        var restoredAt = time.GetUtcNow();
        integrity.Record(location.BackupDirectory, new IntegrityRecord.IntegrityResult(restoredAt, "ok", "restore", location.DatabasePath));
        RestoreRecord.Write(location.BackupDirectory, new RestoreRecord.Restore(restoredAt, manifest.Filename, why, quarantine, location.DatabasePath));
        // The history so far is not this database's any more past this moment: its newest generation ends here.
        try
        {
            new ReplicationStore(location.BackupDirectory).MarkRestored(location.DatabasePath, restoredAt, $"restored {manifest.Filename}: {why}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The database is restored; a volume that takes no record also takes no segment, so no replicator extends that generation.
            System.Diagnostics.Debug.WriteLine(ex);
        }
        PersistenceLog.RestorePerformed(logger, location.DatabasePath, manifest.Filename, why, quarantine ?? "(nothing was replaced)");
        return new RestoreResult(location.DatabasePath, manifest, quarantine, skipped);
    }

    /// <summary>
    /// Refuses a candidate the database directory has no room for: a full disk is not a backup that failed
    /// verification, and trying the older ones would only report each of them as bad.
    /// </summary>
    private static void EnsureRoomFor(DatabaseLocation location, BackupManifest? manifest)
    {
        if (manifest is null)
        {
            return;
        }

        var needed = Math.Max(manifest.Size, manifest.PageSize * manifest.PageCount);
        var (available, total) = VolumeInspector.ReadSpace(location.DatabaseDirectory);
        if (total > 0 && available < needed)
        {
            throw DiskFull(location, manifest.Filename, needed, available);
        }
    }

    private static void ThrowIfDiskFull(DatabaseLocation location, string name, BackupVerification verification)
    {
        if (!verification.Ok && verification.Problem is { } problem && problem.Contains("No space left", StringComparison.OrdinalIgnoreCase))
        {
            throw DiskFull(location, name, null, VolumeInspector.ReadSpace(location.DatabaseDirectory).Available);
        }
    }

    private static RestoreFailedException DiskFull(DatabaseLocation location, string name, long? needed, long available) =>
        new($"The disk is full: restoring {name} needs {(needed is { } n ? $"about {n} bytes" : "more room")} in {location.DatabaseDirectory}, and {available} bytes are free. Nothing was changed; free some space (e.g. old quarantine directories) and try again.");

    private static RestoreFailedException NoneRestorable(List<BackupVerification> skipped)
    {
        var reasons = string.Join("; ", skipped.Select(s => $"{s.Name}: {s.Problem}"));
        return new RestoreFailedException($"No backup could be restored; every candidate failed verification ({reasons}).");
    }

    /// <summary>The temporary file a restore stages its copy in, in the database directory.</summary>
    public static string StagingPathFor(DatabaseLocation location) =>
        Path.Combine(location?.DatabaseDirectory ?? throw new ArgumentNullException(nameof(location)), $".{Path.GetFileName(location.DatabasePath)}.restore{BackupNaming.TempSuffix}");

    /// <summary>Removes what an interrupted restore left in the database directory; returns whether there was anything.</summary>
    public static bool SweepLeftovers(DatabaseLocation location)
    {
        var staging = StagingPathFor(location);
        var found = File.Exists(staging);
        SweepStaging(staging);
        return found;
    }

    /// <summary>Deletes a staging file left by an interrupted restore, and its SQLite side files.</summary>
    private static void SweepStaging(string staging, bool keepFile = false)
    {
        if (keepFile)
        {
            SqliteFiles.DeleteSideFiles(staging);
        }
        else
        {
            SqliteFiles.DeleteWithSideFiles(staging);
        }
    }

    private string? Swap(DatabaseLocation location, string staging, bool checkpointFirst)
    {
        var database = location.DatabasePath;
        if (checkpointFirst)
        {
            Checkpoint(database);
        }

        var present = SqliteFiles.WithSideFiles(database).Where(File.Exists).ToList();
        string? quarantine = null;
        if (present.Count > 0)
        {
            quarantine = CreateQuarantineDirectory(location.BackupDirectory);
            foreach (var file in present)
            {
                var target = Path.Combine(quarantine, Path.GetFileName(file));
                if (!Durable.TryHardLink(file, target))
                {
                    // Different file systems: a copy, made while this process holds no connection to the file.
                    Durable.CopyFile(file, target);
                }
            }

            Durable.FsyncDirectory(quarantine);
            Durable.FsyncDirectory(Path.GetDirectoryName(quarantine)!);
        }

        // A stale -wal beside the new file would be replayed into it: remove side files before the swap.
        SqliteFiles.DeleteSideFiles(database);

        Durable.FsyncDirectory(location.DatabaseDirectory);
        File.Move(staging, database, overwrite: true);
        Durable.FsyncDirectory(location.DatabaseDirectory);
        return quarantine;
    }

    private void Checkpoint(string database)
    {
        // Fold the WAL into the file so the quarantined copy is whole even without its -wal. A file that
        // does not open, or is not a database, is quarantined exactly as found.
        if (new FileInfo(database) is not { Exists: true, Length: > 0 })
        {
            return;
        }

        try
        {
            using var connection = connections.OpenForProbe(database);
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            command.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // A database that cannot checkpoint is quarantined with its -wal as it is.
        }
    }

    private string CreateQuarantineDirectory(string backupDirectory)
    {
        var root = Path.Combine(backupDirectory, QuarantineDirectoryName);
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);
        for (var n = 1; ; n++)
        {
            var candidate = Path.Combine(root, n == 1 ? stamp : $"{stamp}_{n.ToString(CultureInfo.InvariantCulture)}");
            if (!Directory.Exists(candidate))
            {
                Directory.CreateDirectory(candidate);
                return candidate;
            }
        }
    }
}
