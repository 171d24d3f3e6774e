using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// Downloads an off-volume backup to a local file and verifies it there: size and SHA-256 against the
/// manifest (and the decompressed SHA-256 of a <c>.br</c> backup), then <c>quick_check</c> or
/// <c>integrity_check</c>. What is verified is exactly what a restore puts in place.
/// </summary>
public sealed class BackupDownloader(BackupVerifier verifier, ILogger<BackupDownloader> logger)
{
    /// <summary>
    /// Downloads <paramref name="backup"/> to the new file <paramref name="destination"/> and verifies it.
    /// A backup that fails is deleted from <paramref name="destination"/> and reported, never thrown.
    /// </summary>
    public async Task<BackupVerification> FetchAsync(OffsiteStore store, OffsiteBackup backup, string destination, IntegrityCheck kind,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(backup);
        if (store.Objects is not MirroredObjectStore mirrored)
        {
            return await FetchFromAsync(store, backup, destination, kind, progress, cancellationToken).ConfigureAwait(false);
        }

        // Two targets: the first that gives the backup whole, by its manifest, is the one the restore uses.
        BackupVerification? failed = null;
        foreach (var target in mirrored.Targets)
        {
            var result = await FetchFromAsync(store.On(target), backup, destination, kind, progress, cancellationToken).ConfigureAwait(false);
            if (result.Ok)
            {
                mirrored.MarkUsed(target);
                return result;
            }

            failed = failed is null ? result : failed with { Problem = $"{failed.Problem}; in {target.Kind} {target.Name}: {result.Problem}" };
        }

        return failed!;
    }

    private async Task<BackupVerification> FetchFromAsync(OffsiteStore store, OffsiteBackup backup, string destination, IntegrityCheck kind,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var result = await FetchCoreAsync(store, backup, destination, kind, progress, cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
        {
            SqliteFiles.DeleteWithSideFiles(destination);
            PersistenceLog.OffsiteVerificationFailed(logger, backup.Name, store.Container, result.Problem!);
        }

        return result;
    }

    private async Task<BackupVerification> FetchCoreAsync(OffsiteStore store, OffsiteBackup backup, string destination, IntegrityCheck kind,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var checkName = kind == IntegrityCheck.Full ? "integrity_check" : "quick_check";
        if (backup.Manifest is not { } manifest)
        {
            return new BackupVerification(backup.Name, false, backup.ManifestError ?? "it has no manifest", null, null, checkName);
        }

        (string Checksum, long Size, string Content) downloaded;
        try
        {
            downloaded = await store.DownloadAsync(backup, destination, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OffsiteUnavailableException or IOException or UnauthorizedAccessException)
        {
            return new BackupVerification(backup.Name, false, $"it cannot be downloaded: {ex.Message}", null, null, checkName);
        }

        var content = BackupNaming.IsCompressed(backup.Name) ? downloaded.Content : null;
        if (BackupVerifier.Mismatch(backup.Name, manifest, downloaded.Size, downloaded.Checksum, content, checkName) is { } mismatch)
        {
            return mismatch;
        }

        progress?.Report(new OperationProgress(checkName, 0, 0));
        var check = verifier.Check(destination, kind);
        return BackupVerifier.Verdict(backup.Name, check, checkName);
    }
}
