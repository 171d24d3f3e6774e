using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// Proves the off-volume copies can be restored: downloads the newest complete backup from the container
/// into a temporary directory, verifies its SHA-256 and <c>integrity_check</c>, then replays the segments
/// copied off the volume after it (to the newest commit there) and checks the result with
/// <c>integrity_check</c> again; records the result for health and deletes the download. The database and
/// the volume are not touched. A replay that stops at a missing or damaged segment fails the drill.
/// </summary>
public sealed class RestoreDrill(
    OffsiteConnector connector,
    BackupDownloader downloader,
    SqliteConnectionFactory connections,
    OffsiteActivity activity,
    TimeProvider time,
    ILogger<RestoreDrill> logger,
    PersistenceMetrics? metrics = null)
{
    /// <summary>Runs one drill; returns its result, or <see langword="null"/> when off-volume copies are off. Never throws but for cancellation.</summary>
    public async Task<DrillResult?> RunAsync(DatabaseLocation location, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (connector.For(location) is not { } store)
        {
            return null;
        }

        var started = time.GetTimestamp();
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
                var copy = Path.Combine(directory, newest.Name);
                var verification = await downloader.FetchAsync(store, newest, copy, IntegrityCheck.Full, progress, cancellationToken).ConfigureAwait(false);
                result = verification.Ok
                    ? await ReplayAsync(store, location, newest, copy, directory, at, started, cancellationToken).ConfigureAwait(false)
                    : new DrillResult(at, false, newest.Name, newest.TakenAt, $"{newest.Name}: {verification.Problem}", Elapsed(started));
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
            var backupAge = (long)(at - result.BackupTimestamp!.Value).TotalSeconds;
            var pointAge = (long)(at - result.RestoredTo!.Value).TotalSeconds;
            PersistenceLog.RestoreDrillPassed(logger, result.Backup!, store.Container, "integrity_check", result.Segments, result.DurationMs, backupAge, pointAge);
        }
        else
        {
            PersistenceLog.RestoreDrillFailed(logger, store.Container, result.Problem!);
        }

        metrics?.DrillCompleted(result.Ok, at, TimeSpan.FromMilliseconds(result.DurationMs));
        activity.RecordDrill(location.BackupDirectory, result);
        return result;
    }

    /// <summary>Replays the segments in the container after the verified download at <paramref name="copy"/> and checks the result.</summary>
    private async Task<DrillResult> ReplayAsync(OffsiteStore store, DatabaseLocation location, OffsiteBackup backup, string copy, string directory, DateTimeOffset at, long started, CancellationToken cancellationToken)
    {
        var taken = backup.TakenAt;
        var remote = new OffsiteHistory(store, location.DatabasePath);
        var listing = await remote.ListAsync(cancellationToken).ConfigureAwait(false);
        var histories = listing.Generations.Select(g => History.Read(g, listing.FilesOf(g.Id), null, History.Check.Records)).ToList();
        var plans = Timeline.PlansFor([backup], b => b.Manifest!, b => b.TakenAt, histories, target: null);
        var plan = plans.Count > 0 ? plans[0] : new Timeline.Plan<OffsiteBackup>(backup, backup.Manifest!, null, [], null, null, taken);
        var segments = await remote.DownloadAsync(plan.Segments, Directory.CreateDirectory(Path.Combine(directory, "segments")).FullName, cancellationToken: cancellationToken).ConfigureAwait(false);
        var (replay, check, proof, _) = PointReplay.Apply(connections, copy, plan, segments, logger, cancellationToken);
        if (check == "ok")
        {
            // A restore settles for the proof; the drill, which nobody waits for, also checks the state itself fully.
            using var connection = connections.OpenReadOnly(copy);
            check = DatabaseInspector.Check(connection, IntegrityCheck.Full).CheckResult;
        }

        var reached = replay.ReachedAt ?? taken;
        var problem = check is not null and not "ok" ? $"after replaying {replay.Segments} segments onto {backup.Name}, integrity_check failed: {check}"
            : proof is not null ? $"the replay after {backup.Name} did not prove its result: {proof}"
            : (replay.Stopped ?? plan.Problem) is { } stopped ? $"the replay after {backup.Name} stopped early at {stopped}"
            : null;
        return new DrillResult(at, problem is null, backup.Name, taken, problem, Elapsed(started)) { RestoredTo = reached, Segments = replay.Segments };
    }

    private long Elapsed(long started) => (long)time.GetElapsedTime(started).TotalMilliseconds;
}
