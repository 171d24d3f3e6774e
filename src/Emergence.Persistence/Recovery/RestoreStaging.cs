using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Volumes;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// The staging step: the temporary file in the database directory a restore builds its result in, and the search
/// for the first candidate that verifies there. Candidates are tried one after the other, best first: each must fit
/// on the disk, a full disk stops the search (older candidates would only fail the same way), and one that fails is
/// skipped (the step that failed logged why) and its staging file removed, so it never blocks the next. The
/// verified result is left in the staging file; whatever else ends the search removes it.
/// </summary>
internal static class RestoreStaging
{
    /// <summary>A verified result in the staging file: its backup's manifest, the candidates passed over, and the replay that brought it to its point.</summary>
    internal sealed record Staged(BackupManifest Manifest, IReadOnlyList<BackupVerification> Skipped, SegmentReplay.Result? Replay);

    /// <summary>The temporary file a restore stages its copy in, in the database directory.</summary>
    public static string PathFor(DatabaseLocation location) =>
        Path.Combine(location?.DatabaseDirectory ?? throw new ArgumentNullException(nameof(location)), $".{Path.GetFileName(location.DatabasePath)}.restore{BackupNaming.TempSuffix}");

    /// <summary>Deletes a staging file and its SQLite side files (with <paramref name="keepFile"/>, only the side files).</summary>
    public static void Sweep(string staging, bool keepFile = false)
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

    /// <summary>
    /// Sweeps what an interrupted restore left, then stages the candidates with <paramref name="stage"/> until one
    /// verifies.
    /// </summary>
    /// <exception cref="RestoreFailedException">The disk is full, or no candidate verified.</exception>
    public static async ValueTask<Staged> FirstThatVerifiesAsync<TBackup>(DatabaseLocation location, IEnumerable<RestoreCandidate<TBackup>> candidates,
        Func<RestoreCandidate<TBackup>, string, CancellationToken, ValueTask<(BackupVerification Verification, SegmentReplay.Result? Replay)>> stage, CancellationToken cancellationToken)
    {
        var staging = PathFor(location);
        Sweep(staging);
        new ReplicationStore(location.BackupDirectory).SweepRestoreScratch();
        var skipped = new List<BackupVerification>();
        try
        {
            foreach (var candidate in candidates)
            {
                cancellationToken.ThrowIfCancellationRequested();
                EnsureRoomFor(location, candidate.Manifest);
                var (verification, replay) = await stage(candidate, staging, cancellationToken).ConfigureAwait(false);
                if (verification.Ok)
                {
                    return new Staged(candidate.Manifest!, skipped, replay);
                }

                Sweep(staging);
                ThrowIfDiskFull(location, candidate.Name, verification);
                skipped.Add(verification);
            }
        }
        catch
        {
            Sweep(staging);
            throw;
        }

        var reasons = string.Join("; ", skipped.Select(s => $"{s.Name}: {s.Problem}"));
        throw new RestoreFailedException($"No backup could be restored; every candidate failed verification ({reasons}).");
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
}
