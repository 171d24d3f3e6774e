using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// The offline audit of the history on the volume (<c>emergence-db verify --timeline</c>): for every provable
/// generation, a verified copy of a backup at the start of its run is hashed, then every segment is read and
/// checked whole and its pages applied to the page hashes (no database is written), and the content checksum after
/// each segment must be the one the history recorded. What a restore would prove, for every point at once.
/// </summary>
public sealed class HistoryAudit(BackupVerifier verifier, TimeProvider time)
{
    /// <summary>One generation's audit.</summary>
    /// <param name="Generation">The generation.</param>
    /// <param name="Base">The backup its run was checked from, or <see langword="null"/> when none could be.</param>
    /// <param name="Segments">Segments in its run.</param>
    /// <param name="Proven">Segments whose recorded content checksum the audit reproduced, from the first.</param>
    /// <param name="ProvenTo">The newest point proven.</param>
    /// <param name="Problem">Why not every segment was proven (the history's own damage, a missing base, a checksum that differs), or <see langword="null"/>.</param>
    public sealed record GenerationAudit(string Generation, string? Base, int Segments, int Proven, DateTimeOffset? ProvenTo, string? Problem)
    {
        /// <summary>Whether every segment of the generation was proven and nothing in it is damaged.</summary>
        public bool Ok => Problem is null;
    }

    /// <summary>Audits every generation of the database at <paramref name="location"/>, oldest first.</summary>
    public IReadOnlyList<GenerationAudit> Run(DatabaseLocation location, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        var backups = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow()).Verified;
        var audits = new List<GenerationAudit>();
        foreach (var history in History.ReadAll(location.BackupDirectory, location.DatabasePath))
        {
            cancellationToken.ThrowIfCancellationRequested();
            audits.Add(Audit(location, history, backups, cancellationToken));
        }

        return audits;
    }

    private GenerationAudit Audit(DatabaseLocation location, History history, IReadOnlyList<BackupEntry> backups, CancellationToken cancellationToken)
    {
        var id = history.Generation.Id;
        if (!history.Generation.IsProvable)
        {
            return new GenerationAudit(id, null, 0, 0, null, history.Problem);
        }

        // A base at the start of the run: the snapshot, or (once retention pruned the first segments) any backup whose content is the run's start.
        var candidates = backups.Where(b => b.Manifest is { } m && Timeline.BaseIn(history, m) is { Index: 0, Skip: null });
        string? lastProblem = $"no verified backup holds the state its run starts from (snapshot {history.Generation.BaseBackup})";
        foreach (var backup in candidates)
        {
            // In a scratch folder the next restore sweeps, should the audit be killed.
            var scratch = Directory.CreateDirectory(Path.Combine(new ReplicationStore(location.BackupDirectory).Root, $"{ReplicationStore.RestoreScratchPrefix}{Guid.NewGuid():N}")).FullName;
            var staging = Path.Combine(scratch, "base");
            try
            {
                var verification = verifier.VerifyCopy(backup, staging, IntegrityCheck.Quick, cancellationToken: cancellationToken);
                if (!verification.Ok)
                {
                    lastProblem = $"its base {backup.Name} failed verification: {verification.Problem}";
                    continue;
                }

                var hashes = PageHashes.OfFile(staging, cancellationToken);
                return Replay(history, backup.Name, hashes, cancellationToken);
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        return new GenerationAudit(id, null, history.Run.Count, 0, null, lastProblem);
    }

    private static GenerationAudit Replay(History history, string baseName, PageHashes hashes, CancellationToken cancellationToken)
    {
        var id = history.Generation.Id;
        if (hashes.Checksum != history.HashOf(0))
        {
            return new GenerationAudit(id, baseName, history.Run.Count, 0, null,
                $"its base {baseName} holds content {PageHashes.Format(hashes.Checksum)}, not the {PageHashes.Format(history.HashOf(0))} the history starts from");
        }

        for (var i = 0; i < history.Run.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var segment = history.Run[i];
            var name = segment.Manifest!.Filename;
            if (SegmentReplay.ApplyToHashes(hashes, segment) is { } problem)
            {
                return new GenerationAudit(id, baseName, history.Run.Count, i, i == 0 ? history.TimeOf(0) : history.TimeOf(i), $"segment {name}: {problem}");
            }

            if (hashes.Checksum != history.HashOf(i + 1))
            {
                return new GenerationAudit(id, baseName, history.Run.Count, i, history.TimeOf(i),
                    $"after segment {name} the content checksum is {PageHashes.Format(hashes.Checksum)}, but the history recorded {segment.Manifest.EndHash}");
            }
        }

        return new GenerationAudit(id, baseName, history.Run.Count, history.Run.Count, history.TimeOf(history.Run.Count), history.Problem);
    }
}
