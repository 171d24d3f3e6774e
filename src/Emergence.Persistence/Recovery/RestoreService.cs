using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// Puts a verified state in place of the database: a backup as it is, or a point of the replicated history, from
/// the backup directory or the off-volume container. Every restore runs the same pipeline
/// (<see cref="RestorePipeline"/>): the result is built in a staging file in the database directory and verified
/// (and, for a point, proven) there; the current database and its <c>-wal</c>/<c>-shm</c> are kept in
/// <c>quarantine/&lt;stamp&gt;/</c>; the result is renamed over the database. At every instant the database path
/// holds either the old database or the restored one, complete.
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

    private readonly RestorePipeline _pipeline = new(connections, probe, integrity, time, logger, metrics);

    /// <summary>
    /// Restores <paramref name="target"/> from the backup directory, or with <paramref name="store"/> from that
    /// off-volume container. A candidate that fails verification (or, for a point, its replay's check or proof) is
    /// skipped, logged, for the next; a replay that stops early (a missing or damaged segment) restores what it
    /// reached and says so in <see cref="RestoreResult.Replay"/>.
    /// </summary>
    /// <param name="location">The database and backup directory.</param>
    /// <param name="volumeLock">The volume lock, held: proof no other process of this app writes the database.</param>
    /// <param name="target">What to restore.</param>
    /// <param name="options">Why, whether forced, progress, and how to treat the database replaced.</param>
    /// <param name="store">The off-volume container to restore from, or <see langword="null"/> for the backup directory.</param>
    /// <param name="cancellationToken">Stops the restore before the swap.</param>
    /// <exception cref="InvalidBackupNameException">The target names something that is not a backup's file name.</exception>
    /// <exception cref="RestoreFailedException">Refused, the source cannot be read, nothing fits the target, or no candidate verified; the database is unchanged.</exception>
    public async Task<RestoreResult> RestoreAsync(DatabaseLocation location, VolumeLock volumeLock, RestoreTarget target, RestoreOptions options, OffsiteStore? store = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        if (store is null)
        {
            using var volume = new VolumeSource(location, verifier, time.GetUtcNow());
            return await _pipeline.RunAsync(location, volumeLock, volume, target, options, cancellationToken).ConfigureAwait(false);
        }

        return await RestoreOffsiteAsync(location, volumeLock, store, target, options, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Restores the backup named <paramref name="backupName"/> from the backup directory, or with
    /// <see langword="null"/> the newest one that verifies (see <see cref="RestoreAsync"/>).
    /// </summary>
    /// <exception cref="InvalidBackupNameException">The name is not a backup's file name.</exception>
    /// <exception cref="RestoreFailedException">Refused, or no backup verified; the database is unchanged.</exception>
    public RestoreResult Restore(DatabaseLocation location, VolumeLock volumeLock, string? backupName, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, CancellationToken cancellationToken = default) =>
        // Every step of a restore from the volume completes synchronously, so this blocks on nothing.
        RestoreAsync(location, volumeLock, RestoreTarget.Backup(backupName), new RestoreOptions { Why = why, Force = force, Progress = progress, KnownDamaged = knownDamaged },
            cancellationToken: cancellationToken).GetAwaiter().GetResult();

    /// <summary>
    /// Restores from the backup directory the newest state at or before <paramref name="target"/> (with
    /// <see langword="null"/>: the newest provable point): a base backup and the history after its log point,
    /// replayed and proven (see <see cref="RestoreAsync"/>).
    /// </summary>
    /// <exception cref="RestoreFailedException">Refused, nothing at or before the point, or no candidate verified; the database is unchanged.</exception>
    public RestoreResult RestoreToTime(DatabaseLocation location, VolumeLock volumeLock, DateTimeOffset? target, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, bool refuseEmptied = false, CancellationToken cancellationToken = default) =>
        RestoreAsync(location, volumeLock, RestoreTarget.Point(target),
            new RestoreOptions { Why = why, Force = force, Progress = progress, KnownDamaged = knownDamaged, RefuseEmptied = refuseEmptied },
            cancellationToken: cancellationToken).GetAwaiter().GetResult();

    /// <summary>
    /// Restores from the off-volume container the newest state at or before <paramref name="target"/> (with
    /// <see langword="null"/>: the newest commit copied off the volume), as <see cref="RestoreToTime"/> does from the
    /// backup directory. <paramref name="listed"/>: the container's backups when the caller has just listed them;
    /// listed here otherwise.
    /// </summary>
    /// <exception cref="RestoreFailedException">Refused, the container cannot be read, nothing at or before the point, or no candidate verified; the database is unchanged.</exception>
    public Task<RestoreResult> RestoreOffsiteToTimeAsync(DatabaseLocation location, VolumeLock volumeLock, OffsiteStore store, DateTimeOffset? target, bool force, string why,
        IProgress<OperationProgress>? progress = null, bool knownDamaged = false, IReadOnlyList<OffsiteBackup>? listed = null, bool refuseEmptied = false, CancellationToken cancellationToken = default) =>
        RestoreOffsiteAsync(location, volumeLock, store, RestoreTarget.Point(target),
            new RestoreOptions { Why = why, Force = force, Progress = progress, KnownDamaged = knownDamaged, RefuseEmptied = refuseEmptied }, listed, cancellationToken);

    private async Task<RestoreResult> RestoreOffsiteAsync(DatabaseLocation location, VolumeLock volumeLock, OffsiteStore store, RestoreTarget target, RestoreOptions options,
        IReadOnlyList<OffsiteBackup>? listed, CancellationToken cancellationToken)
    {
        // The source is where another kind of container, or a fallback between several, plugs in.
        using var container = new ContainerSource(location, store, downloader, listed);
        return await _pipeline.RunAsync(location, volumeLock, container, target, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The temporary file a restore stages its copy in, in the database directory.</summary>
    public static string StagingPathFor(DatabaseLocation location) => RestoreStaging.PathFor(location);

    /// <summary>Removes what an interrupted restore left in the database directory; returns whether there was anything.</summary>
    public static bool SweepLeftovers(DatabaseLocation location)
    {
        var staging = RestoreStaging.PathFor(location);
        var found = File.Exists(staging);
        RestoreStaging.Sweep(staging);
        return found;
    }
}
