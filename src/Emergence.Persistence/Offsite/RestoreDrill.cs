using System.Diagnostics;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Records;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// Proves the off-volume copies can be restored: downloads the newest complete backup from the
/// container into a temporary directory, verifies its SHA-256 and <c>integrity_check</c>, records the
/// result for health, and deletes the download. The database and the volume are not touched.
/// </summary>
public sealed class RestoreDrill(
    OffsiteConnector connector,
    OffsiteDownloader downloader,
    OffsiteActivity activity,
    TimeProvider time,
    ILogger<RestoreDrill> logger)
{
    /// <summary>Runs one drill; returns its result, or <see langword="null"/> when off-volume copies are off. Never throws but for cancellation.</summary>
    public async Task<DrillResult?> RunAsync(DatabaseLocation location, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (connector.For(location) is not { } store)
        {
            return null;
        }

        var started = Stopwatch.GetTimestamp();
        var at = time.GetUtcNow();
        DrillResult result;
        string? directory = null;
        try
        {
            var newest = (await store.ListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(b => b.IsComplete);
            if (newest is null)
            {
                result = new DrillResult(at, false, null, null, $"the container {store.Container} holds no complete backup", Elapsed(started));
            }
            else
            {
                directory = Directory.CreateTempSubdirectory("emergence-drill-").FullName;
                var verification = await downloader.FetchAsync(store, newest, Path.Combine(directory, newest.Name), IntegrityCheck.Full, progress, cancellationToken).ConfigureAwait(false);
                result = new DrillResult(at, verification.Ok, newest.Name, newest.Manifest!.Timestamp, verification.Ok ? null : $"{newest.Name}: {verification.Problem}", Elapsed(started));
            }
        }
        catch (Exception ex) when (ex is OffsiteUnavailableException or IOException or UnauthorizedAccessException)
        {
            result = new DrillResult(at, false, null, null, ex.Message, Elapsed(started));
        }
        finally
        {
            if (directory is not null)
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        if (result.Ok)
        {
            PersistenceLog.RestoreDrillPassed(logger, result.Backup!, store.Container, "integrity_check", result.DurationMs, (long)(at - result.BackupTimestamp!.Value).TotalSeconds);
        }
        else
        {
            PersistenceLog.RestoreDrillFailed(logger, store.Container, result.Problem!);
        }

        activity.RecordDrill(location.BackupDirectory, result);
        return result;
    }

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}
