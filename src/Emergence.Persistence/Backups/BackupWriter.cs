using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Backups;

/// <summary>
/// Writes one verified backup into a backup directory the caller has locked and swept: copy → sync → hash →
/// <c>quick_check</c> → compress → rename → manifest. Until the rename nothing has a backup's name; a
/// failure at any step removes every file this write created and names the step.
/// </summary>
internal sealed class BackupWriter(SqliteConnectionFactory connections, PersistenceOptions options, IntegrityRecord integrity, TimeProvider time, ILogger logger)
{
    private const int BufferSize = 1 << 20;
    private readonly BackupCopy _copy = new(connections, time);

    /// <summary>The files of one backup: the final names and the temporary ones they are written under.</summary>
    private sealed record Files(string Name, string Final, string Copy, string CompressedCopy, string Manifest, string ManifestTemp)
    {
        public static Files For(string directory, string baseName, bool compress)
        {
            var name = compress ? baseName + BackupNaming.CompressedSuffix : baseName;
            var final = Path.Combine(directory, name);
            var manifest = final + BackupNaming.ManifestSuffix;
            return new Files(name, final, Path.Combine(directory, baseName) + BackupNaming.TempSuffix, final + BackupNaming.TempSuffix, manifest, manifest + BackupNaming.TempSuffix);
        }
    }

    /// <summary>What a write produced.</summary>
    /// <param name="Manifest">The new backup's manifest, or <see langword="null"/> when the copy equalled <c>unlessSameAs</c> and was deleted.</param>
    /// <param name="Position">The log position the copy's content holds (see <see cref="BackupManifest.WalPosition"/>).</param>
    /// <param name="Pinned">Whether the position was read while no writer could commit.</param>
    /// <param name="Hashes">The copy's page hashes (its content checksum).</param>
    public sealed record Written(BackupManifest? Manifest, WalPosition? Position, bool Pinned, PageHashes Hashes);

    /// <summary>
    /// Writes a backup of <paramref name="location"/>'s database. Returns its manifest (null
    /// when <paramref name="unlessSameAs"/> is given and the copy's content equals it: the copy is deleted then),
    /// the log position its content holds and its page hashes.
    /// </summary>
    /// <param name="location">The database and its backup directory.</param>
    /// <param name="reason">The manifest's reason.</param>
    /// <param name="swept">The directory as the sweep before this write left it: the sequence and the baseline for content loss.</param>
    /// <param name="unlessSameAs">The newest backup, when an unchanged database is to be skipped.</param>
    /// <param name="progress">Progress by step.</param>
    /// <param name="cancellationToken">Stops between steps (and during the hash, the compression).</param>
    /// <exception cref="BackupFailedException">A step failed; nothing this write created is left.</exception>
    public Written Write(DatabaseLocation location, string reason, BackupInventory swept, BackupManifest? unlessSameAs, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var source = location.DatabasePath;
        var directory = location.BackupDirectory;
        var started = time.GetTimestamp();
        var now = time.GetUtcNow();
        Preflight(source, directory);

        var compress = options.Compression == BackupCompression.Brotli;
        var files = Files.For(directory, new BackupNaming(source).NextFreeName(directory, now), compress);
        var steps = new BackupSteps(directory);
        var renamed = false;
        try
        {
            var expected = BackupSpace.DatabaseBytes(source);
            progress?.Report(new OperationProgress("copy", 0, expected));
            var (position, pinned, contentAt) = steps.Run("copy", files.Copy, () => _copy.Write(source, files.Copy, expected, progress));
            cancellationToken.ThrowIfCancellationRequested();

            // The copy is page-exact: its check is a check of the live database as of the copy.
            var (checksum, size, hashes, facts) = CheckCopy(steps, files.Copy, compress, unlessSameAs, progress,
                found => integrity.Record(directory, new IntegrityRecord.IntegrityResult(now, found.CheckResult, "backup", source)), cancellationToken);
            if (facts is null)
            {
                RemovePartials(files.Copy);
                PersistenceLog.BackupUnchanged(logger, source, unlessSameAs!.Filename);
                return new Written(null, position, pinned, hashes);
            }

            if (!facts!.IsOk)
            {
                throw new BackupFailedException("quick_check", files.Copy, $"the copy failed quick_check: {facts.CheckResult}");
            }

            var contentChecksum = checksum;
            var written = files.Copy;
            if (compress)
            {
                (checksum, size) = CompressCopy(steps, files, progress, cancellationToken);
                written = files.CompressedCopy;
            }

            steps.Run("rename", written, () =>
            {
                File.Move(written, files.Final, overwrite: false);
                renamed = true;
                Durable.FsyncDirectory(directory);
            });

            var manifest = WriteManifest(steps, files, source, reason, swept, facts, (checksum, size, contentChecksum), hashes, (contentAt, position, pinned), compress, started);
            progress?.Report(new OperationProgress("done", size, size));
            return new Written(manifest, position, pinned, hashes);
        }
        catch
        {
            RemovePartials(files.Copy, files.CompressedCopy, files.ManifestTemp, renamed ? files.Final : null);
            throw;
        }
    }

    /// <summary>
    /// Writes the renamed backup's manifest, last (a backup without one is incomplete), and logs the backup, and the
    /// suspicion when its content lost every table the newest good backup had.
    /// </summary>
    private BackupManifest WriteManifest(BackupSteps steps, Files files, string source, string reason, BackupInventory swept, DatabaseFacts facts,
        (string Checksum, long Size, string ContentChecksum) stored, PageHashes hashes, (DateTimeOffset ContentAt, WalPosition? Position, bool Pinned) point, bool compress, long started)
    {
        var baseline = swept.NewestGood?.Manifest;
        var suspect = ContentLoss.LostEveryTable(baseline, facts.SchemaObjects);
        var manifest = ManifestFor(files, source, reason, swept, facts, stored, hashes, point, suspect, compress);
        steps.Run("manifest", files.Manifest, () => Durable.WriteFileAtomically(files.ManifestTemp, files.Manifest, JsonSerializer.SerializeToUtf8Bytes(manifest, PersistenceJson.Options)));
        var durationMs = (long)time.GetElapsedTime(started).TotalMilliseconds;
        PersistenceLog.BackupCompleted(logger, reason, files.Final, stored.Size, durationMs, stored.Checksum);
        if (suspect is not null)
        {
            PersistenceLog.BackupSuspect(logger, files.Name, source, suspect, baseline!.Filename);
        }

        return manifest;
    }

    /// <summary>
    /// Hashes the copy (SHA-256 and its page hashes) and, unless its content equals <paramref name="unlessSameAs"/>'s,
    /// runs <c>quick_check</c> on it (facts <see langword="null"/> when unchanged), while the copy is fsynced beside
    /// them (<paramref name="checkedCopy"/> is given the check's result before the fsync is waited for): the fsync waits on the disk, the hash and the check read the copy from the page cache one after the other
    /// (one core for the backup, the others for the app). A copy that is to be compressed is not synced: it is deleted
    /// once the compressed file (which is) has been written, usually before the kernel has written any of it back.
    /// </summary>
    private (string Checksum, long Size, PageHashes Hashes, DatabaseFacts? Facts) CheckCopy(BackupSteps steps, string copy, bool compress, BackupManifest? unlessSameAs,
        IProgress<OperationProgress>? progress, Action<DatabaseFacts> checkedCopy, CancellationToken cancellationToken)
    {
        var reporter = progress is null ? null : new SynchronizedProgress(progress);
        var syncing = compress ? Task.CompletedTask : BackupService.OnOwnThread(() =>
        {
            Durable.FsyncFile(copy);
            reporter?.Report(new OperationProgress("synced", 0, 0));
            return true;
        });
        var (checksum, size) = steps.Run("checksum", copy, () => WhileSyncing(syncing, () => Sha256.OfFile(copy, OperationProgress.Checksum(reporter), cancellationToken)));
        var unchanged = unlessSameAs is not null && checksum == (unlessSameAs.ContentChecksum ?? unlessSameAs.Checksum);
        var hashes = steps.Run("checksum", copy, () => WhileSyncing(syncing, () => PageHashes.OfFile(copy, cancellationToken)));
        DatabaseFacts? facts = null;
        if (!unchanged)
        {
            reporter?.Report(new OperationProgress("quick_check", 0, 0));
            facts = steps.Run("quick_check", copy, () => WhileSyncing(syncing, () => QuickCheck(copy)));
            checkedCopy(facts);
        }

        // A failed fsync (ENOSPC or EIO surfacing at writeback) means the copy never became durable.
        steps.Run("copy", copy, () => syncing.GetAwaiter().GetResult());
        return (checksum, size, hashes, facts);
    }

    /// <summary>Compresses the copy into <c>files.CompressedCopy</c> and deletes the copy; returns the compressed file's checksum and size.</summary>
    private static (string Checksum, long Size) CompressCopy(BackupSteps steps, Files files, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new OperationProgress("compress", 0, 0));
        return steps.Run("compress", files.Copy, () =>
        {
            var compressed = Compress(files.Copy, files.CompressedCopy, cancellationToken);
            File.Delete(files.Copy);
            return compressed;
        });
    }

    /// <summary>The manifest of a written backup.</summary>
    private static BackupManifest ManifestFor(Files files, string source, string reason, BackupInventory swept, DatabaseFacts facts, (string Checksum, long Size, string ContentChecksum) stored,
        PageHashes hashes, (DateTimeOffset ContentAt, WalPosition? Position, bool Pinned) point, string? suspect, bool compress) => new()
        {
            // The moment the copy's content was fixed (every commit it holds was made before it), not the start of the write.
            Timestamp = point.ContentAt,
            Filename = files.Name,
            Size = stored.Size,
            Checksum = stored.Checksum,
            SourcePath = source,
            BackupPath = files.Final,
            Reason = reason,
            QuickCheck = facts.CheckResult,
            SqliteVersion = SqliteRuntime.Version,
            PageSize = facts.PageSize,
            PageCount = facts.PageCount,
            UserVersion = facts.UserVersion,
            Compression = compress ? "brotli" : "none",
            ContentChecksum = stored.ContentChecksum,
            Sequence = swept.NextSequence,
            SchemaObjects = facts.SchemaObjects,
            Suspect = suspect,
            ContentHash = PageHashes.Format(hashes.Checksum),
            WalPosition = point.Position,
            Pinned = point.Pinned,
        };

    private static void Preflight(string source, string directory)
    {
        if (RegularFile.NotADatabaseFile(source) is { } what)
        {
            throw new BackupFailedException("preflight", source, $"the database path is {what}, not a database file");
        }

        if (!File.Exists(source))
        {
            throw new BackupFailedException("preflight", source, "the database file does not exist");
        }

        var needed = BackupSpace.Required(BackupSpace.DatabaseBytes(source));
        var (available, _) = VolumeInspector.ReadSpace(directory);
        if (available < needed)
        {
            throw new BackupFailedException("preflight", directory, $"not enough free space: the backup needs about {needed} bytes, {available} are available");
        }
    }

    /// <summary>Brotli-compresses a verified copy into <paramref name="destination"/> (fsynced), hashing what is written.</summary>
    private static (string Checksum, long Size) Compress(string source, string destination, CancellationToken cancellationToken)
    {
        using var hash = new Sha256();
        using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize);
        using (var hashing = new HashingStream(output, hash))
        using (var brotli = new BrotliStream(hashing, CompressionLevel.Fastest, leaveOpen: true))
        using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan))
        {
            input.CopyToAsync(brotli, cancellationToken).GetAwaiter().GetResult();
        }

        output.Flush(flushToDisk: true);
        return (hash.Finish(), output.Length);
    }

    private DatabaseFacts QuickCheck(string path)
    {
        // Not memory-mapped, unlike the checks of existing backups (restores, `verify`): mapped, the check took
        // half the time, but the app's commits during backups were no better and by the median somewhat worse
        // (5 interleaved rounds of the benchmark's writer trials); here the app's latency comes first.
        using var connection = connections.OpenReadOnly(path);
        return DatabaseInspector.Check(connection, IntegrityCheck.Quick);
    }

    /// <summary>Runs a step beside the copy's fsync; when the step fails, waits for the fsync so no thread outlives the backup.</summary>
    private static T WhileSyncing<T>(Task syncing, Func<T> work)
    {
        try
        {
            return work();
        }
        catch
        {
            try
            {
                syncing.GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is SqliteException or IOException or OperationCanceledException)
            {
                // The step that failed first is the one reported.
                Debug.WriteLine(ex);
            }

            throw;
        }
    }

    private static void RemovePartials(params string?[] paths)
    {
        foreach (var candidate in paths.OfType<string>().SelectMany(SqliteFiles.WithSideFiles))
        {
            try
            {
                File.Delete(candidate);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The next backup's sweep removes it.
                Debug.WriteLine(ex);
            }
        }
    }
}
