using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Records;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

// How a session starts: a held reader, a snapshot, and a generation continued only with proof, or a new one.
public sealed partial class ReplicationSession
{
    /// <summary>
    /// Holds a reader, then takes a snapshot: a verified copy whose content is held exactly at a point of the log.
    /// The newest generation of this database continues only when it can prove nothing was committed while no
    /// replicator ran (the snapshot's content checksum equals the checksum of the generation's newest provable
    /// point) and no restore ended it; otherwise a new generation starts from the snapshot.
    /// </summary>
    /// <remarks><c>after</c>: why the previous session ended, when the history broke under it; a new generation starts then.</remarks>
    /// <exception cref="BackupFailedException">The snapshot could not be taken.</exception>
    public static async Task<ReplicationSession> OpenAsync(DatabaseLocation location, SqliteConnectionFactory connections, BackupService backups, TimeProvider time, ILogger logger, long checkpointBytes, string? after, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(backups);
        var store = new ReplicationStore(location.BackupDirectory);
        var id = ReplicationStore.NewGenerationId(time.GetUtcNow());
        var placeholder = new GenerationManifest { Id = id, StartedAt = time.GetUtcNow(), DatabasePath = location.DatabasePath, BaseBackup = "", BaseBackupTimestamp = default, Start = null };
        var session = new ReplicationSession(location, connections, store, time, logger, checkpointBytes, placeholder);
        try
        {
            // The reader is held: from here no frame can leave the log uncopied, so the snapshot's point is followed.
            var snapshot = await backups.SnapshotAsync(location, BackupReason.Replication, TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
            if (!snapshot.Pinned)
            {
                throw new BackupFailedException("snapshot", location.DatabasePath, "writers could not be held off for the moment it takes to read the log's end; the snapshot's point in the log is unknown");
            }

            session._hashes = snapshot.Hashes;
            session.Position = snapshot.Position;
            var generations = store.Generations(location.DatabasePath);
            var last = generations.Count > 0 ? generations[^1] : null;
            if (last is not null)
            {
                // Only the newest generation was being written: what a killed session left half done there goes first.
                store.SweepInterrupted(last.Id);
            }

            var tip = after is null && last is not null ? TipOf(store, last) : null;
            if (tip is not null && tip.Hash == snapshot.Hashes.Checksum)
            {
                session.Resume(last!, tip);
                return session;
            }

            if (last is not null && after is null)
            {
                after = WhyNotResumed(store, last, tip);
                PersistenceLog.ReplicationGenerationEnded(logger, location.DatabasePath, last.Id, after);
            }

            session.Start(placeholder, snapshot, after);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Continues <paramref name="generation"/> from its newest provable point, the snapshot's content.</summary>
    private void Resume(GenerationManifest generation, Tip tip)
    {
        Generation = generation;
        NextSequence = tip.NextSequence;
        _lastStamp = tip.At;
        _resumedByContent = true;
        Resumed = true;
        var tipHash = PageHashes.Format(tip.Hash);
        PersistenceLog.ReplicationResumed(_logger, _location.DatabasePath, generation.Id, tip.Segment, tipHash);
    }

    /// <summary>Starts a new generation from <paramref name="snapshot"/> (<paramref name="after"/>: why the last one ended).</summary>
    private void Start(GenerationManifest placeholder, BackupSnapshot snapshot, string? after)
    {
        var generation = placeholder with
        {
            // Every commit the snapshot holds was made before now: its time as a point, which a restore to an earlier time must not take.
            StartedAt = _time.GetUtcNow(),
            BaseBackup = snapshot.Backup.Filename,
            BaseBackupTimestamp = snapshot.Backup.Timestamp,
            After = after,
            Start = snapshot.Position,
            Format = GenerationManifest.CurrentFormat,
            Number = _store.NextNumber(_location.DatabasePath),
            StartHash = PageHashes.Format(snapshot.Hashes.Checksum),
            Pinned = true,
        };
        _store.WriteGeneration(generation);
        Generation = generation;
        _lastStamp = generation.StartedAt;
        var afterText = after is null ? "" : $" (after: {after})";
        var position = Describe(snapshot.Position);
        PersistenceLog.ReplicationGenerationStarted(_logger, _location.DatabasePath, generation.Id, snapshot.Backup.Filename, position, afterText);
    }

    /// <summary>A generation's newest provable point: the content checksum there, its time, and the next segment's number.</summary>
    private sealed record Tip(ulong Hash, DateTimeOffset At, long NextSequence, string Segment);

    /// <summary>Where a stored generation could continue, or <see langword="null"/> when it cannot (an earlier format, ended by a restore, or damaged at its end).</summary>
    private static Tip? TipOf(ReplicationStore store, GenerationManifest generation)
    {
        if (!generation.IsProvable || store.EndedOf(generation.Id) is not null)
        {
            return null;
        }

        var history = History.Read(generation, store.Files(generation.Id), store.EndedOf(generation.Id), History.Check.Quick);
        if (history.Problem is not null)
        {
            return null; // a damaged generation is not extended
        }

        if (history.Run.Count == 0)
        {
            return new Tip(PageHashes.Parse(generation.StartHash)!.Value, generation.StartedAt, 1, "(none: at its snapshot)");
        }

        var newest = history.Run[^1].Manifest!;
        return new Tip(PageHashes.Parse(newest.EndHash)!.Value, newest.LastCommitAt, newest.Last + 1, newest.Filename);
    }

    private static string WhyNotResumed(ReplicationStore store, GenerationManifest last, Tip? tip) =>
        !last.IsProvable ? "it was written by an earlier version, without content checksums"
        : store.EndedOf(last.Id) is { } ended ? $"a restore replaced the database at {UtcMillisecondsConverter.Format(ended.At)}"
        : tip is null ? "its newest segments are damaged or missing"
        : $"the database's content is not the history's newest point (checksum {PageHashes.Format(tip.Hash)}): commits were made while no replicator ran, or the database was replaced";

    /// <summary>
    /// Refuses a database in rollback-journal mode: its commits never pass through a log, so following the log
    /// would report no lag while replicating nothing. Asked through SQLite, never by opening the file: closing
    /// any descriptor of the database file drops every POSIX lock this process's connections hold on it.
    /// </summary>
    private static void ThrowUnlessWalMode(SqliteConnection connection, string databasePath)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        if (!string.Equals(command.ExecuteScalar() as string, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"the database {databasePath} is not in WAL mode (journal_mode=WAL), so its commits cannot be replicated");
        }
    }

    private static string Describe(WalPosition? position) => position is null
        ? "(no log yet)"
        : $"log {position.CheckpointSequence} frame {position.Frames}";
}
