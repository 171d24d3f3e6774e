using Emergence.Persistence.Backups;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// Where a restore reads from: the backup directory on the volume (<see cref="VolumeSource"/>) or the off-volume
/// container (<see cref="ContainerSource"/>). A source lists its backups and history, puts a verified copy of one
/// backup in the staging file, and hands over a plan's segments as local files; the rest of the pipeline is the
/// same for both. Disposing it removes whatever it downloaded.
/// </summary>
/// <typeparam name="TBackup">How the source lists a backup.</typeparam>
internal abstract class RestoreSource<TBackup> : IDisposable
{
    /// <summary>The source's name in the restore metrics (<c>local</c>, <c>offsite</c>).</summary>
    public abstract string MetricName { get; }

    /// <summary>Where the backups are, as sentences name it.</summary>
    public abstract string Where { get; }

    /// <summary>What makes a backup here worth restoring, as sentences name it (<c>verified</c>, <c>complete</c>).</summary>
    public abstract string Restorable { get; }

    /// <summary>The off-volume container read from, or <see langword="null"/> for the volume.</summary>
    public virtual string? Container => null;

    /// <summary>A backup's file name.</summary>
    public abstract string NameOf(TBackup backup);

    /// <summary>A backup's manifest, when it has one.</summary>
    public abstract BackupManifest? ManifestOf(TBackup backup);

    /// <summary>A backup's time.</summary>
    public abstract DateTimeOffset TakenAt(TBackup backup);

    /// <summary>Lists the backups and, when <paramref name="target"/> is a point, the history after them (as much of it as planning for that point needs).</summary>
    /// <exception cref="RestoreFailedException">The source cannot be read.</exception>
    public abstract ValueTask<RestoreCatalog<TBackup>> ReadAsync(RestoreTarget target, CancellationToken cancellationToken);

    /// <summary>
    /// Copies <paramref name="backup"/> to <paramref name="staging"/> and verifies the copy there; with <paramref name="measureContent"/>
    /// (a plan in a generation's history), a source that reads the copy back whole measures its content checksum too
    /// (<see cref="BackupVerification.CopyContentHash"/>).
    /// </summary>
    public abstract ValueTask<BackupVerification> StageAsync(TBackup backup, string staging, bool measureContent, IProgress<OperationProgress>? progress, CancellationToken cancellationToken);

    /// <summary>The plan's segments as local files (downloaded first when they are not on the volume).</summary>
    /// <exception cref="RestoreFailedException">The segments cannot be fetched.</exception>
    public abstract ValueTask<IReadOnlyList<HistoryFile>> SegmentsAsync(Timeline.Plan<TBackup> plan, IProgress<OperationProgress>? progress, CancellationToken cancellationToken);

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Removes what the source downloaded.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
