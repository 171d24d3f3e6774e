using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// The offline audit of the history on the volume (<c>emergence-db verify --timeline</c>): for every provable
/// generation, a verified copy of a backup at the start of its run is hashed, then every segment is read and
/// checked whole and its pages applied to the page hashes (no database is written), and the content checksum after
/// each segment must be the one the history recorded. What a restore would prove, for every point at once. A generation
/// wholly older than the restore window (<see cref="ReplicationRetention.PastTheWindow"/>) promises no point: the next
/// prune deletes it, and rotation no longer keeps its base, so a problem found in it is reported without failing.
/// </summary>
public sealed class HistoryAudit(BackupVerifier verifier, TimeProvider time, RestoreWindow window)
{
    /// <summary>One generation's audit.</summary>
    /// <param name="Generation">The generation.</param>
    /// <param name="Base">The backup its run was checked from, or <see langword="null"/> when none could be.</param>
    /// <param name="Segments">Segments in its run.</param>
    /// <param name="Proven">Files of the run whose recorded content checksum the audit reproduced, from its base on.</param>
    /// <param name="ProvenTo">The newest point proven.</param>
    /// <param name="Problem">Why not every segment was proven (the history's own damage, a missing base, a checksum that differs), or <see langword="null"/>.</param>
    public sealed record GenerationAudit(string Generation, string? Base, int Segments, int Proven, DateTimeOffset? ProvenTo, string? Problem)
    {
        /// <summary>
        /// Whether every point of the generation is older than the restore window and it is not the newest generation:
        /// nothing in it is promised, and the next prune deletes it.
        /// </summary>
        public bool PastTheWindow { get; init; }

        /// <summary>Whether every point the restore window promises in the generation was proven: all of its segments, or none for a generation past the window.</summary>
        public bool Ok => Problem is null || PastTheWindow;
    }

    /// <summary>Audits every generation of the database at <paramref name="location"/>, oldest first.</summary>
    public IReadOnlyList<GenerationAudit> Run(DatabaseLocation location, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        var now = time.GetUtcNow();
        var backups = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now).Verified;
        var histories = History.ReadAll(location.BackupDirectory, location.DatabasePath);
        var audits = new List<GenerationAudit>();
        foreach (var history in histories)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var past = history != histories[^1] && window.Passed(history, now);
            audits.Add(Audit(location, history, backups, cancellationToken) with { PastTheWindow = past });
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

        // The earliest base in the run: the snapshot, or (once retention pruned the oldest history) any backup the run places,
        // at a point or inside a level file (which applied whole gives the state at its end).
        var candidates = backups
            .Select(b => (Backup: b, At: b.Manifest is { } m ? Timeline.BaseIn(history, m) : null))
            .Where(c => c.At is { } at && (at.Skip is null || (at.Index < history.Run.Count && history.Run[at.Index].Level > 0)))
            .OrderBy(c => c.At!.Value.Index).ThenBy(c => c.At!.Value.Skip is null ? 0 : 1);
        string? lastProblem = $"no verified backup holds a state of its run (snapshot {history.Generation.BaseBackup})";
        foreach (var (backup, at) in candidates)
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

                var hashes = PageHashes.OfFile(staging, PageHashes.ProofWorkers, cancellationToken);
                return Replay(history, backup.Name, hashes, at!.Value.Index, at.Value.Skip is not null, cancellationToken);
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        return new GenerationAudit(id, null, history.Run.Count, 0, null, lastProblem);
    }

    /// <summary>
    /// Replays the run's files from point <paramref name="from"/> (or inside the file there) onto the base's page hashes and
    /// checks each recorded checksum; each level file beside the run is applied to a copy of the hashes at its start and
    /// must reach the checksum recorded at its end.
    /// </summary>
    private static GenerationAudit Replay(History history, string baseName, PageHashes hashes, int from, bool inside, CancellationToken cancellationToken)
    {
        var id = history.Generation.Id;
        if (!inside && hashes.Checksum != history.HashOf(from))
        {
            return new GenerationAudit(id, baseName, history.Run.Count, from, null,
                $"its base {baseName} holds content {PageHashes.Format(hashes.Checksum)}, not the {PageHashes.Format(history.HashOf(from))} the history records at its point");
        }

        var jumps = history.Jumps.ToLookup(j => history.PointAfter(j.Sequence - 1) ?? -1);
        string? damagedJump = null;
        for (var i = from; i < history.Run.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var jump in (inside && i == from) ? [] : jumps[i])
            {
                var copy = hashes.Clone();
                var problem = SegmentReplay.ApplyToHashes(copy, jump)
                    ?? (copy.Checksum != PageHashes.Parse(jump.Manifest!.EndHash) ? $"it ends at content {PageHashes.Format(copy.Checksum)}, not the {jump.Manifest.EndHash} recorded" : null);
                damagedJump ??= problem is null ? null : $"level file {jump.Manifest!.Filename}: {problem} (restores go along the segments instead)";
            }

            var segment = history.Run[i];
            var name = segment.Manifest!.Filename;
            if (SegmentReplay.ApplyToHashes(hashes, segment) is { } damaged)
            {
                return new GenerationAudit(id, baseName, history.Run.Count, i - from, history.TimeOf(i), $"{(segment.Level > 0 ? "level file" : "segment")} {name}: {damaged}");
            }

            if (hashes.Checksum != history.HashOf(i + 1))
            {
                return new GenerationAudit(id, baseName, history.Run.Count, i - from, history.TimeOf(i),
                    $"after {name} the content checksum is {PageHashes.Format(hashes.Checksum)}, but the history recorded {segment.Manifest.EndHash}");
            }
        }

        return new GenerationAudit(id, baseName, history.Run.Count, history.Run.Count - from, history.TimeOf(history.Run.Count), history.Problem ?? damagedJump);
    }
}
