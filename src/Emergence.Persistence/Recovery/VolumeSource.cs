using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Recovery;

/// <summary>A restore's source on the volume: the backup directory's backups and the replicated history beside them.</summary>
internal sealed class VolumeSource(DatabaseLocation location, BackupVerifier verifier, DateTimeOffset now) : RestoreSource<BackupEntry>
{
    /// <inheritdoc/>
    public override string MetricName => "local";

    /// <inheritdoc/>
    public override string Where => location.BackupDirectory;

    /// <inheritdoc/>
    public override string Restorable => "verified";

    /// <inheritdoc/>
    public override string NameOf(BackupEntry backup) => backup.Name;

    /// <inheritdoc/>
    public override BackupManifest? ManifestOf(BackupEntry backup) => backup.Manifest;

    /// <inheritdoc/>
    public override DateTimeOffset TakenAt(BackupEntry backup) => backup.TakenAt;

    /// <inheritdoc/>
    public override ValueTask<RestoreCatalog<BackupEntry>> ReadAsync(RestoreTarget target, CancellationToken cancellationToken)
    {
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now);
        var histories = target.IsPoint ? HistoriesUntil(target.Time, inventory.RestoreCandidates) : [];
        var catalog = new RestoreCatalog<BackupEntry>(inventory.Backups, inventory.RestoreCandidates, histories, b => b.IsSuspect || b.IsFromTheFuture);
        return ValueTask.FromResult(!histories.Any(h => h.Partial) ? catalog
            : catalog with { Complete = () => catalog with { Histories = History.ReadAll(location.BackupDirectory, location.DatabasePath) } });
    }

    /// <summary>
    /// The histories a restore to <paramref name="until"/> (<see langword="null"/>: the newest point) plans from: each run
    /// read coarsest first and only up to its first file past that time (<see cref="History.ReadUntil"/>), when that reaches
    /// as far and places every backup the full reading would. It does unless a run read in part ends early (a damaged
    /// file or record on its path, which a full read may pass along other files), or a backup's place in it could differ:
    /// one placed by its content (a point the reading crossed by a coarser file, or a newer one not read, may hold the
    /// same content) or, taken at or before the time, placed nowhere (it may be a state the reading did not see). Then
    /// every record is read, as <see cref="History.ReadAll"/> reads them.
    /// </summary>
    private IReadOnlyList<History> HistoriesUntil(DateTimeOffset? until, IReadOnlyList<BackupEntry> candidates)
    {
        var histories = History.ReadUntil(location.BackupDirectory, location.DatabasePath, until);
        if (histories.Any(h => h.Partial && h.Problem is not null))
        {
            // The coarse path ends early (a damaged file or record on it): a full read may reach further, along other files.
            return History.ReadAll(location.BackupDirectory, location.DatabasePath);
        }

        foreach (var candidate in candidates)
        {
            if (candidate.Manifest is not { } manifest)
            {
                continue;
            }

            // A base for sure: placed where the reading in part gives what a full reading would.
            var based = histories.Any(h => Timeline.BaseIn(h, manifest) is not null && (!h.Partial || Timeline.PlacedByLogPoint(h, manifest)));
            foreach (var history in histories.Where(h => h.Partial && !Timeline.PlacedByLogPoint(h, manifest)))
            {
                if (Timeline.BaseIn(history, manifest) is not null || (!(candidate.TakenAt > until) && !based))
                {
                    return History.ReadAll(location.BackupDirectory, location.DatabasePath);
                }
            }
        }

        return histories;
    }

    /// <inheritdoc/>
    public override ValueTask<BackupVerification> StageAsync(BackupEntry backup, string staging, bool measureContent, IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
        ValueTask.FromResult(verifier.VerifyCopy(backup, staging, IntegrityCheck.Quick, measureContent, progress, cancellationToken));

    /// <inheritdoc/>
    public override ValueTask<IReadOnlyList<HistoryFile>> SegmentsAsync(Timeline.Plan<BackupEntry> plan, IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
        ValueTask.FromResult(plan.Segments);
}
