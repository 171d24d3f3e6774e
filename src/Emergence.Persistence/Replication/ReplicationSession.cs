using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// One generation being written: follows the live database's WAL and makes every committed transaction
/// durable in a segment.
/// </summary>
/// <remarks>
/// No frame may leave the log before it is in a segment. SQLite overwrites a log's frames only when it
/// restarts the log, which it does only once every frame is checkpointed and no reader holds a read mark
/// on the log. The session always holds a read transaction, and hands it over by opening the next one
/// before closing the last: a held reader either has a mark on the log (no restart) or reads the
/// database file alone, which also stops every checkpoint, so at most one restart can happen under it,
/// and only of a log whose every frame was already copied. Under a steady writer the log would then never
/// restart; so when it grows past <see cref="Configuration.ReplicationOptions.CheckpointBytes"/>, the
/// session takes the write lock for a moment, copies the last frames, checkpoints, and lets the next
/// writer restart the log. Nothing is written to the database or to its <c>-wal</c>/<c>-shm</c>.
/// </remarks>
public sealed class ReplicationSession : IDisposable
{
    private readonly DatabaseLocation _location;
    private readonly SqliteConnectionFactory _connections;
    private readonly ReplicationStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _checkpointBytes;
    private readonly SqliteConnection[] _readers = new SqliteConnection[2];
    private readonly SqliteTransaction?[] _transactions = new SqliteTransaction?[2];
    private readonly ulong? _inode;
    private int _current;
    private bool _resumed;

    private ReplicationSession(DatabaseLocation location, SqliteConnectionFactory connections, ReplicationStore store, TimeProvider time, ILogger logger, long checkpointBytes, GenerationManifest generation, WalPosition? position, long nextSequence, bool resumed)
    {
        _location = location;
        _connections = connections;
        _store = store;
        _time = time;
        _logger = logger;
        _checkpointBytes = checkpointBytes;
        Generation = generation;
        Position = position;
        NextSequence = nextSequence;
        _resumed = resumed;
        _inode = NativeMethods.InodeOf(location.DatabasePath);
        _readers[0] = connections.OpenReadOnly(location.DatabasePath);
        _readers[1] = connections.OpenReadOnly(location.DatabasePath);
        try
        {
            ThrowUnlessWalMode(_readers[0], location.DatabasePath);
            Handover();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The generation being written.</summary>
    public GenerationManifest Generation { get; private set; }

    /// <summary>How far the log is covered.</summary>
    public WalPosition? Position { get; private set; }

    /// <summary>The next segment's number.</summary>
    public long NextSequence { get; private set; }

    /// <summary>The log's largest size seen.</summary>
    public long LogHighWaterBytes { get; private set; }

    private string WalPath => _location.DatabasePath + "-wal";

    /// <summary>
    /// Resumes the newest generation of this database when its log position still follows, else starts a new
    /// generation: holds a reader, notes the log's end, and takes a verified backup as the snapshot.
    /// </summary>
    /// <exception cref="BackupFailedException">The snapshot could not be taken.</exception>
    public static async Task<ReplicationSession> OpenAsync(DatabaseLocation location, SqliteConnectionFactory connections, BackupService backups, TimeProvider time, ILogger logger, long checkpointBytes, string? after, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(backups);
        var store = new ReplicationStore(location.BackupDirectory);
        var generations = store.Generations(location.DatabasePath);
        if (after is null && generations.Count > 0 && generations[^1] is var last && ResumePoint(store, last) is { } resume)
        {
            store.SweepTemporary(last.Id);
            return new ReplicationSession(location, connections, store, time, logger, checkpointBytes, last, resume.Position, resume.NextSequence, resumed: true);
        }

        var id = ReplicationStore.NewGenerationId(time.GetUtcNow());
        var placeholder = new GenerationManifest { Id = id, StartedAt = time.GetUtcNow(), DatabasePath = location.DatabasePath, BaseBackup = "", BaseBackupTimestamp = default, Start = null };
        var session = new ReplicationSession(location, connections, store, time, logger, checkpointBytes, placeholder, null, 1, resumed: false);
        try
        {
            // The reader is held: from here no frame can leave the log uncopied. Everything before the log's
            // current end goes into the snapshot, taken after it.
            var end = WalTail.CopyCommitted(session.WalPath, null, Stream.Null);
            var start = end.Continuity == WalTail.Continuity.NoLog ? null : end.To;
            // A backup whose content equals the database now is as good a snapshot as a new one (the comparison
            // is of a fresh copy taken after the reader was held), so a start right after startup's backup takes no second one.
            var snapshot = await backups.CreateIfChangedAsync(location, BackupReason.Replication, TimeSpan.FromMinutes(5), cancellationToken: cancellationToken).ConfigureAwait(false)
                ?? BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow()).Newest?.Manifest
                ?? throw new BackupFailedException("snapshot", location.BackupDirectory, "no backup holds the database's current content");
            var generation = placeholder with { BaseBackup = snapshot.Filename, BaseBackupTimestamp = snapshot.Timestamp, After = after, Start = start };
            store.WriteGeneration(generation);
            session.Generation = generation;
            session.Position = start;
            var position = Describe(start);
            var afterText = after is null ? "" : $" (after: {after})";
            PersistenceLog.ReplicationGenerationStarted(logger, location.DatabasePath, id, snapshot.Filename, position, afterText);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>What one poll did.</summary>
    /// <param name="Segment">The segment written, when there were new commits.</param>
    /// <param name="CaughtUpAt">Every commit before this time is now in a durable segment.</param>
    /// <param name="LogBytes">The log's size.</param>
    /// <param name="Checkpointed">Whether the session checkpointed so the log can restart.</param>
    public sealed record PollResult(SegmentManifest? Segment, DateTimeOffset CaughtUpAt, long LogBytes, bool Checkpointed);

    /// <summary>Copies every commit since the last poll into a durable segment; checkpoints when the log has grown.</summary>
    /// <exception cref="ReplicationBrokenException">The history cannot be followed: a new generation must start.</exception>
    public PollResult Poll()
    {
        var started = _time.GetUtcNow();
        if (NativeMethods.InodeOf(_location.DatabasePath) is { } inode && _inode is { } own && inode != own)
        {
            throw new ReplicationBrokenException($"the database file {_location.DatabasePath} was replaced");
        }

        Handover();
        var segment = CopyToSegment(started);
        var logBytes = RegularFile.LengthOrZero(WalPath);
        var checkpointed = false;
        if (logBytes >= _checkpointBytes)
        {
            segment = Checkpoint(started, segment) ?? segment;
            checkpointed = true;
            logBytes = RegularFile.LengthOrZero(WalPath);
        }

        LogHighWaterBytes = Math.Max(LogHighWaterBytes, logBytes);
        return new PollResult(segment, started, logBytes, checkpointed);
    }

    /// <summary>Closes the readers (they do not checkpoint: the connections are read-only).</summary>
    public void Dispose()
    {
        for (var i = 0; i < 2; i++)
        {
            _transactions[i]?.Dispose();
            _transactions[i] = null;
            _readers[i]?.Dispose();
        }
    }

    private SegmentManifest? CopyToSegment(DateTimeOffset seenAt) => Stage(seenAt) is { } staged ? Finish(staged) : null;

    /// <summary>A segment copied into its temporary file, not yet durable.</summary>
    private sealed record Staged(string TempPath, SegmentManifest Manifest);

    /// <summary>
    /// Copies the commits since the position into the next segment's temporary file and moves the position
    /// on; <see cref="Finish"/> makes it durable. Between the two the frames are only in the log and that file:
    /// a crash before <see cref="Finish"/> leaves the stored generation at its last durable segment, which no
    /// longer follows the log, so the next start begins a new generation rather than leave a gap.
    /// </summary>
    private Staged? Stage(DateTimeOffset seenAt)
    {
        var directory = _store.DirectoryOf(Generation.Id);
        var name = ReplicationStore.SegmentName(NextSequence);
        var temp = Path.Combine(directory, name) + Durable.TempSuffix;
        WalTail.Result read;
        using var hash = new Sha256();
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            read = WalTail.CopyCommitted(WalPath, Position, file, hash);
        }

        if (_resumed && read.Continuity == WalTail.Continuity.NextLog)
        {
            File.Delete(temp);
            throw new ReplicationBrokenException("the log restarted while no replicator was running, so its last frames may never have been copied");
        }

        _resumed = false;
        if (read.Continuity == WalTail.Continuity.Broken)
        {
            File.Delete(temp);
            throw new ReplicationBrokenException(read.Why!);
        }

        if (read.Bytes == 0)
        {
            File.Delete(temp);
            Position = read.To ?? Position;
            return null;
        }

        var origin = read.From!;
        var to = read.To!;
        var manifest = new SegmentManifest
        {
            Generation = Generation.Id,
            Sequence = NextSequence,
            Filename = name,
            Salt1 = origin.Salt1,
            Salt2 = origin.Salt2,
            CheckpointSequence = origin.CheckpointSequence,
            FirstFrame = origin.Frames + 1,
            LastFrame = to.Frames,
            StartChain = [origin.S1, origin.S2],
            EndChain = [to.S1, to.S2],
            PageSize = origin.PageSize,
            BigEndianChecksums = origin.BigEndianChecksums,
            Commits = read.Commits,
            DatabasePages = read.DatabasePages,
            FirstCommitAt = seenAt,
            LastCommitAt = seenAt,
            Size = read.Bytes,
            Checksum = hash.Finish(),
        };
        Position = to;
        NextSequence++;
        return new Staged(temp, manifest);
    }

    /// <summary>Fsyncs a staged segment, renames it into place and writes its manifest.</summary>
    private SegmentManifest Finish(Staged staged)
    {
        Durable.FsyncFile(staged.TempPath);
        return _store.Commit(staged.TempPath, staged.Manifest);
    }

    /// <summary>
    /// Lets the log restart: with the write lock held (writers wait, readers do not), copies the last
    /// commits, checkpoints every frame, and opens the next reader before releasing the lock, so the first
    /// writer after it restarts the log and no frame leaves it uncopied.
    /// </summary>
    private SegmentManifest? Checkpoint(DateTimeOffset seenAt, SegmentManifest? written)
    {
        // Most frames are checkpointed before the lock is taken, so that holding it costs little; under it
        // the last commits are only copied (made durable once it is released) and the rest checkpointed.
        using var checkpointer = _connections.OpenForProbe(_location.DatabasePath);
        RunCheckpoint(checkpointer);
        using var writer = _connections.OpenForProbe(_location.DatabasePath);
        Staged? tail;
        DatabaseInspector.Execute(writer, "BEGIN IMMEDIATE");
        try
        {
            tail = Stage(seenAt);
            EndRead(_current);
            var (frames, done) = RunCheckpoint(checkpointer);
            BeginRead(_current);
            var logBytes = RegularFile.LengthOrZero(WalPath);
            PersistenceLog.ReplicationCheckpoint(_logger, _location.DatabasePath, logBytes, done, frames);
        }
        finally
        {
            DatabaseInspector.Execute(writer, "ROLLBACK");
        }

        return tail is null ? written : Finish(tail);
    }

    private static (int Frames, int Checkpointed) RunCheckpoint(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt32(1), reader.GetInt32(2)) : (0, 0);
    }

    /// <summary>Opens a read transaction on the other connection, then ends the one held: there is always one.</summary>
    private void Handover()
    {
        var next = 1 - _current;
        BeginRead(next);
        EndRead(_current);
        _current = next;
    }

    private void BeginRead(int index)
    {
        EndRead(index);
        var transaction = _readers[index].BeginTransaction(deferred: true);
        using var command = _readers[index].CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM sqlite_schema";
        command.ExecuteScalar();
        _transactions[index] = transaction;
    }

    private void EndRead(int index)
    {
        if (_transactions[index] is { } transaction)
        {
            transaction.Rollback();
            transaction.Dispose();
            _transactions[index] = null;
        }
    }

    /// <summary>Where a stored generation continues: after its newest segment, or at its start.</summary>
    private static (WalPosition? Position, long NextSequence)? ResumePoint(ReplicationStore store, GenerationManifest generation)
    {
        var segments = store.Segments(generation.Id);
        var newest = segments.LastOrDefault(s => s.Manifest is not null);
        if (newest is null)
        {
            return segments.Count == 0 ? (generation.Start, 1) : null;
        }

        var m = newest.Manifest!;
        if (segments.Where(s => s.Sequence <= m.Sequence).Any(s => s.Manifest is null) || !File.Exists(newest.Path))
        {
            return null; // a damaged generation is not extended
        }

        return (new WalPosition(m.Salt1, m.Salt2, m.CheckpointSequence, m.LastFrame, m.EndChain[0], m.EndChain[1], m.PageSize, m.BigEndianChecksums), m.Sequence + 1);
    }

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
