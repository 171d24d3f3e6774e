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
    public override ValueTask<RestoreCatalog<BackupEntry>> ReadAsync(bool withHistory, CancellationToken cancellationToken)
    {
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now);
        var histories = withHistory ? History.ReadAll(location.BackupDirectory, location.DatabasePath) : [];
        return ValueTask.FromResult(new RestoreCatalog<BackupEntry>(inventory.Backups, inventory.RestoreCandidates, histories, b => b.IsSuspect || b.IsFromTheFuture));
    }

    /// <inheritdoc/>
    public override ValueTask<BackupVerification> StageAsync(BackupEntry backup, string staging, IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
        ValueTask.FromResult(verifier.VerifyCopy(backup, staging, IntegrityCheck.Quick, progress, cancellationToken));

    /// <inheritdoc/>
    public override ValueTask<IReadOnlyList<HistoryFile>> SegmentsAsync(Timeline.Plan<BackupEntry> plan, IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
        ValueTask.FromResult(plan.Segments);
}
