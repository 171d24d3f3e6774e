using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// A restore's source off the volume: the container's complete backups and the history its listing gives. A
/// backup is downloaded into the staging file and verified there; a plan's segments are downloaded into a scratch
/// folder under the backup directory (<c>backups/replication/.restore-*/</c>), deleted when the source is disposed
/// and swept by the next restore if this one is killed. Every read of the container is bounded in time by
/// <see cref="OffsiteStore"/>.
/// </summary>
/// <param name="location">The database and backup directory.</param>
/// <param name="store">The container.</param>
/// <param name="downloader">Downloads and verifies a backup.</param>
/// <param name="listed">The container's backups when the caller has just listed them; listed here otherwise.</param>
internal sealed class ContainerSource(DatabaseLocation location, OffsiteStore store, BackupDownloader downloader, IReadOnlyList<OffsiteBackup>? listed = null)
    : RestoreSource<OffsiteBackup>
{
    private readonly OffsiteHistory _remote = new(store ?? throw new ArgumentNullException(nameof(store)), location.DatabasePath);
    private readonly string _scratch = Path.Combine(new ReplicationStore(location.BackupDirectory).Root, $"{ReplicationStore.RestoreScratchPrefix}{Guid.NewGuid():N}");
    private int _downloads;

    /// <inheritdoc/>
    public override string MetricName => "offsite";

    /// <inheritdoc/>
    public override string Where => $"the off-volume container {store.Container}";

    /// <inheritdoc/>
    public override string Restorable => "complete";

    /// <inheritdoc/>
    public override string? Container => store.Container;

    /// <inheritdoc/>
    public override string NameOf(OffsiteBackup backup) => backup.Name;

    /// <inheritdoc/>
    public override BackupManifest? ManifestOf(OffsiteBackup backup) => backup.Manifest;

    /// <inheritdoc/>
    public override DateTimeOffset TakenAt(OffsiteBackup backup) => backup.TakenAt;

    /// <inheritdoc/>
    public override async ValueTask<RestoreCatalog<OffsiteBackup>> ReadAsync(RestoreTarget target, CancellationToken cancellationToken)
    {
        IReadOnlyList<OffsiteBackup> backups;
        IReadOnlyList<History> histories = [];
        try
        {
            backups = listed ?? await store.ListAsync(cancellationToken).ConfigureAwait(false);
            if (target.IsPoint)
            {
                var history = await _remote.ListAsync(cancellationToken).ConfigureAwait(false);
                histories = [.. history.Generations.Select(g => History.Read(g, history.FilesOf(g.Id), null, History.Check.Records))];
            }
        }
        catch (OffsiteUnavailableException ex)
        {
            throw new RestoreFailedException($"The off-volume container {store.Container} cannot be read: {ex.Message}", ex);
        }

        return new RestoreCatalog<OffsiteBackup>(backups, [.. backups.Where(b => b.IsComplete)], histories, null);
    }

    /// <inheritdoc/>
    public override async ValueTask<BackupVerification> StageAsync(OffsiteBackup backup, string staging, bool measureContent, IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
        await downloader.FetchAsync(store, backup, staging, IntegrityCheck.Quick, progress, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public override async ValueTask<IReadOnlyList<HistoryFile>> SegmentsAsync(Timeline.Plan<OffsiteBackup> plan, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var directory = Directory.CreateDirectory(Path.Combine(_scratch, (_downloads++).ToString(CultureInfo.InvariantCulture))).FullName;
        try
        {
            return await _remote.DownloadAsync(plan.Segments, directory, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (OffsiteUnavailableException ex)
        {
            throw new RestoreFailedException($"The segments after {plan.Backup.Name} cannot be downloaded from the off-volume container {store.Container}: {ex.Message}. The database is unchanged.", ex);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (Directory.Exists(_scratch))
        {
            Directory.Delete(_scratch, recursive: true);
        }

        base.Dispose(disposing);
    }
}
