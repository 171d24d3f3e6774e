using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Backups;

/// <summary>
/// Verifies a backup: its manifest names it, its size and SHA-256 match the manifest, and it passes
/// <c>quick_check</c> (or <c>integrity_check</c>). Leaves no <c>-wal</c>/<c>-shm</c> behind.
/// </summary>
public sealed class BackupVerifier(SqliteConnectionFactory connections, ILogger<BackupVerifier> logger)
{
    /// <summary>Verifies <paramref name="backup"/> where it lies; never throws for a bad backup, only reports it.</summary>
    public BackupVerification Verify(BackupEntry backup, IntegrityCheck kind, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backup);
        return Report(backup, VerifyCore(backup, kind, copyTo: null, measureContent: false, progress, cancellationToken));
    }

    /// <summary>
    /// Copies <paramref name="backup"/> to <paramref name="destination"/> (fsynced), hashing while it
    /// copies, and verifies the copy: what is checked is exactly what a restore puts in place, read
    /// once. A failed copy is deleted.
    /// </summary>
    public BackupVerification VerifyCopy(BackupEntry backup, string destination, IntegrityCheck kind, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        VerifyCopy(backup, destination, kind, measureContent: false, progress, cancellationToken);

    /// <summary>
    /// Copies and verifies as <see cref="VerifyCopy(BackupEntry, string, IntegrityCheck, IProgress{OperationProgress}?, CancellationToken)"/>;
    /// with <paramref name="measureContent"/>, an uncompressed copy's content checksum is also read from the copy, beside
    /// its hash and check (<see cref="BackupVerification.CopyContentHash"/>): what a restore to a point holds against the manifest
    /// and the history, and starts its proof from.
    /// </summary>
    public BackupVerification VerifyCopy(BackupEntry backup, string destination, IntegrityCheck kind, bool measureContent, IProgress<OperationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backup);
        var result = VerifyCore(backup, kind, destination, measureContent, progress, cancellationToken);
        if (!result.Ok)
        {
            SqliteFiles.DeleteWithSideFiles(destination);
        }

        return Report(backup, result);
    }

    /// <summary>
    /// Compares what was read of a backup with its manifest: size, SHA-256 of the stored file and, when
    /// known, of the database it holds. Returns the failed verification, or <see langword="null"/> when all match.
    /// </summary>
    internal static BackupVerification? Mismatch(string name, BackupManifest manifest, long size, string checksum, string? content, string checkName)
    {
        if (size != manifest.Size)
        {
            return new BackupVerification(name, false, $"its size is {size} bytes but the manifest says {manifest.Size}", false, null, checkName);
        }

        if (!string.Equals(checksum, manifest.Checksum, StringComparison.Ordinal))
        {
            return new BackupVerification(name, false, $"its SHA-256 is {checksum} but the manifest says {manifest.Checksum}", false, null, checkName);
        }

        if (content is not null && manifest.ContentChecksum is { } expected && !string.Equals(content, expected, StringComparison.Ordinal))
        {
            return new BackupVerification(name, false, $"its decompressed SHA-256 is {content} but the manifest says {expected}", false, null, checkName);
        }

        return null;
    }

    /// <summary>The verification of a backup whose size and checksums matched, by its integrity check's result.</summary>
    internal static BackupVerification Verdict(string name, string check, string checkName) => check == "ok"
        ? new BackupVerification(name, true, null, true, check, checkName)
        : new BackupVerification(name, false, $"{checkName} failed: {check}", true, check, checkName);

    private BackupVerification Report(BackupEntry backup, BackupVerification result)
    {
        if (!result.Ok)
        {
            PersistenceLog.BackupVerificationFailed(logger, backup.Name, result.Problem!);
        }

        return result;
    }

    private BackupVerification VerifyCore(BackupEntry backup, IntegrityCheck kind, string? copyTo, bool measureContent, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var checkName = kind == IntegrityCheck.Full ? "integrity_check" : "quick_check";
        if (backup.Manifest is not { } manifest)
        {
            return new BackupVerification(backup.Name, false, backup.ManifestError ?? "it has no manifest", null, null, checkName);
        }

        // Checked again here: the file may have been replaced since the directory was scanned.
        var special = backup.IsSpecial ? backup.ManifestError : RegularFile.NotRegular(backup.Path) is { } what ? $"it is {what}, not a backup file" : null;
        if (special is not null)
        {
            return new BackupVerification(backup.Name, false, special, null, null, checkName);
        }

        var compressed = BackupNaming.IsCompressed(backup.Name);
        string checksum;
        long size;
        string? check;
        string? content;
        ulong? measured;
        try
        {
            (checksum, size, check, content, measured) = Read(backup.Path, kind, copyTo, compressed, measureContent, progress, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new BackupVerification(backup.Name, false, $"it cannot be read, copied or decompressed: {ex.Message}", null, null, checkName);
        }

        if (Mismatch(backup.Name, manifest, size, checksum, null, checkName) is { } mismatch)
        {
            return mismatch;
        }

        progress?.Report(new OperationProgress(checkName, 0, 0));
        if (check is null && compressed)
        {
            (check, content) = CheckCompressed(backup.Path, copyTo, kind, content, cancellationToken);
        }

        if (Mismatch(backup.Name, manifest, size, checksum, content, checkName) is { } contentMismatch)
        {
            return contentMismatch;
        }

        check ??= RunCheck(backup.Path, kind, inPlace: true);
        var verdict = Verdict(backup.Name, check, checkName);
        return verdict.Ok ? verdict with { CopyContentHash = measured } : verdict;
    }

    /// <summary>
    /// Reads the backup for its checksum and size: in place; or decompressed into <paramref name="copyTo"/>; or copied
    /// there, the integrity check, the fsync of the copy and, with <paramref name="measureContent"/>, the reading of its
    /// content checksum running beside the hash. Returns also the check's result when it ran, the decompressed content's
    /// checksum when there was one, and the copy's content checksum when it was measured (not for a copy that is not
    /// whole pages of a database).
    /// </summary>
    private (string Checksum, long Size, string? Check, string? Content, ulong? Measured) Read(string path, IntegrityCheck kind, string? copyTo, bool compressed, bool measureContent,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        if (copyTo is null)
        {
            var (checksum, size) = Sha256.OfFile(path, OperationProgress.Checksum(progress), cancellationToken);
            return (checksum, size, null, null, null);
        }

        if (compressed)
        {
            // Decompressed straight into the staging file, hashing both sides as they pass.
            progress?.Report(new OperationProgress("decompress", 0, 0));
            var (checksum, size, content) = Decompress(path, copyTo, cancellationToken);
            return (checksum, size, null, content, null);
        }

        // The kernel copies (copy_file_range); then the hash, the integrity check, the fsync of the copy and the
        // reading of its content checksum run side by side. What is verified is exactly what a restore puts in place.
        progress?.Report(new OperationProgress("copy", 0, 0));
        File.Copy(path, copyTo);
        var checking = Task.Run(() => RunCheck(copyTo, kind, inPlace: false), cancellationToken);
        var syncing = Task.Run(() => Durable.FsyncFile(copyTo), cancellationToken);
        var measuring = measureContent ? Task.Run(() => ContentOf(copyTo, cancellationToken), cancellationToken) : Task.FromResult<ulong?>(null);
        string copied;
        long copiedSize;
        using (var handle = File.OpenHandle(copyTo, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan))
        {
            (copied, copiedSize) = Sha256.OfFile(handle, OperationProgress.Checksum(progress), cancellationToken);
        }

        syncing.GetAwaiter().GetResult();
        return (copied, copiedSize, checking.GetAwaiter().GetResult(), null, measuring.GetAwaiter().GetResult());
    }

    /// <summary>The content checksum of a copy, read from it; <see langword="null"/> when it is not whole pages of a database (its check says what is wrong).</summary>
    private static ulong? ContentOf(string copy, CancellationToken cancellationToken)
    {
        try
        {
            return PageHashes.OfFile(copy, cancellationToken).Checksum;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Checks a compressed backup: the staged copy when there is one, else a private decompressed copy.</summary>
    private (string Check, string? Content) CheckCompressed(string backupPath, string? staged, IntegrityCheck kind, string? content, CancellationToken cancellationToken)
    {
        if (staged is not null)
        {
            return (RunCheck(staged, kind, inPlace: false), content);
        }

        var directory = Directory.CreateTempSubdirectory("emergence-verify-").FullName;
        try
        {
            var target = Path.Combine(directory, "database.sqlite");
            var (_, _, decompressed) = Decompress(backupPath, target, cancellationToken);
            return (RunCheck(target, kind, inPlace: false), decompressed);
        }
        catch (IOException ex)
        {
            return ($"cannot be decompressed: {ex.Message}", null);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Decompresses a Brotli backup into <paramref name="destination"/> (fsynced); returns the SHA-256 and
    /// size of the compressed input and the SHA-256 of the output. Damaged input throws <see cref="IOException"/>.
    /// </summary>
    private static (string Checksum, long Size, string Content) Decompress(string source, string destination, CancellationToken cancellationToken)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var result = BackupStreams.DecompressAsync(input, output, cancellationToken).GetAwaiter().GetResult();
        output.Flush(flushToDisk: true);
        return result;
    }

    /// <summary>
    /// Runs <c>quick_check</c> or <c>integrity_check</c> on a database file that no other process uses (a
    /// staged or downloaded copy); returns <c>ok</c> or the first problem.
    /// </summary>
    public string Check(string path, IntegrityCheck kind) => RunCheck(path, kind, inPlace: false);

    private string RunCheck(string path, IntegrityCheck kind, bool inPlace)
    {
        // Backups are written in rollback-journal mode, so a read-only open creates no side files. A
        // WAL-mode file (made elsewhere) would get -wal/-shm: check a private copy of it instead.
        string? copyDirectory = null;
        try
        {
            var target = path;
            if (inPlace && DatabaseInspector.HasWalHeader(path))
            {
                copyDirectory = Directory.CreateTempSubdirectory("emergence-verify-").FullName;
                target = Path.Combine(copyDirectory, Path.GetFileName(path));
                File.Copy(path, target);
            }

            using var connection = connections.OpenMapped(target);
            return DatabaseInspector.Check(connection, kind).CheckResult;
        }
        catch (SqliteException ex)
        {
            return ex.Message;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot be checked: {ex.Message}";
        }
        finally
        {
            if (copyDirectory is not null)
            {
                Directory.Delete(copyDirectory, recursive: true);
            }
        }
    }
}
