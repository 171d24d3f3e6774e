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
        return Report(backup, VerifyCore(backup, kind, copyTo: null, progress, cancellationToken));
    }

    /// <summary>
    /// Copies <paramref name="backup"/> to <paramref name="destination"/> (fsynced), hashing while it
    /// copies, and verifies the copy: what is checked is exactly what a restore puts in place, read
    /// once. A failed copy is deleted.
    /// </summary>
    public BackupVerification VerifyCopy(BackupEntry backup, string destination, IntegrityCheck kind, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backup);
        var result = VerifyCore(backup, kind, destination, progress, cancellationToken);
        if (!result.Ok)
        {
            DeleteWithSideFiles(destination);
        }

        return Report(backup, result);
    }

    /// <summary>Deletes a file and the <c>-journal</c>/<c>-wal</c>/<c>-shm</c> files SQLite may have made beside it.</summary>
    public static void DeleteWithSideFiles(string path)
    {
        foreach (var candidate in new[] { path, path + "-journal", path + "-wal", path + "-shm" })
        {
            File.Delete(candidate);
        }
    }

    private BackupVerification Report(BackupEntry backup, BackupVerification result)
    {
        if (!result.Ok)
        {
            PersistenceLog.BackupVerificationFailed(logger, backup.Name, result.Problem!);
        }

        return result;
    }

    private BackupVerification VerifyCore(BackupEntry backup, IntegrityCheck kind, string? copyTo, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var checkName = kind == IntegrityCheck.Full ? "integrity_check" : "quick_check";
        if (backup.Manifest is not { } manifest)
        {
            return new BackupVerification(backup.Name, false, backup.ManifestError ?? "it has no manifest", null, null, checkName);
        }

        if (backup.IsLink)
        {
            return new BackupVerification(backup.Name, false, backup.ManifestError ?? "it is a symbolic link", null, null, checkName);
        }

        string checksum;
        long size;
        string? check = null;
        try
        {
            if (copyTo is null)
            {
                using var handle = File.OpenHandle(backup.Path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
                (checksum, size) = BackupService.Sha256(handle, progress, cancellationToken);
            }
            else
            {
                // The kernel copies (copy_file_range); then the hash, the integrity check and the fsync of the
                // copy run side by side. What is verified is exactly what a restore puts in place.
                progress?.Report(new OperationProgress("copy", 0, 0));
                File.Copy(backup.Path, copyTo);
                var checking = Task.Run(() => RunCheck(copyTo, kind, inPlace: false), cancellationToken);
                var syncing = Task.Run(() => Durable.FsyncFile(copyTo), cancellationToken);
                using (var handle = File.OpenHandle(copyTo, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan))
                {
                    (checksum, size) = BackupService.Sha256(handle, progress, cancellationToken);
                }

                syncing.GetAwaiter().GetResult();
                check = checking.GetAwaiter().GetResult();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new BackupVerification(backup.Name, false, $"it cannot be read or copied: {ex.Message}", null, null, checkName);
        }

        if (size != manifest.Size)
        {
            return new BackupVerification(backup.Name, false, $"its size is {size} bytes but the manifest says {manifest.Size}", false, null, checkName);
        }

        if (!string.Equals(checksum, manifest.Checksum, StringComparison.Ordinal))
        {
            return new BackupVerification(backup.Name, false, $"its SHA-256 is {checksum} but the manifest says {manifest.Checksum}", false, null, checkName);
        }

        progress?.Report(new OperationProgress(checkName, 0, 0));
        check ??= RunCheck(backup.Path, kind, inPlace: true);
        return check == "ok"
            ? new BackupVerification(backup.Name, true, null, true, check, checkName)
            : new BackupVerification(backup.Name, false, $"{checkName} failed: {check}", true, check, checkName);
    }

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

            using var connection = connections.OpenReadOnly(target);
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
