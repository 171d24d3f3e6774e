using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
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
    private PageHashes _hashes = PageHashes.Empty();
    private readonly MemoryStream _buffer = new();
    private DateTimeOffset _lastStamp;
    private DateTimeOffset _caughtUpAt;
    private OpenSegment? _open;
    private bool _resumedByContent;
    private int _current;

    private ReplicationSession(DatabaseLocation location, SqliteConnectionFactory connections, ReplicationStore store, TimeProvider time, ILogger logger, long checkpointBytes, GenerationManifest generation)
    {
        _location = location;
        _connections = connections;
        _store = store;
        _time = time;
        _logger = logger;
        _checkpointBytes = checkpointBytes;
        Generation = generation;
        NextSequence = 1;
        _caughtUpAt = time.GetUtcNow(); // what is committed before the reader is held is in the snapshot taken after it
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

    /// <summary>Whether the session continues a stored generation (proven by content) rather than starting one.</summary>
    public bool Resumed { get; private set; }

    /// <summary>The content checksum of the database at <see cref="Position"/>, as the history holds it.</summary>
    public ulong ContentHash => _hashes.Checksum;

    private string WalPath => _location.DatabasePath + "-wal";

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
                session.Generation = last!;
                session.NextSequence = tip.NextSequence;
                session._lastStamp = tip.At;
                session._resumedByContent = true;
                session.Resumed = true;
                var tipHash = PageHashes.Format(tip.Hash);
                PersistenceLog.ReplicationResumed(logger, location.DatabasePath, last!.Id, tip.Segment, tipHash);
                return session;
            }

            if (last is not null && after is null)
            {
                after = WhyNotResumed(store, last, tip);
                PersistenceLog.ReplicationGenerationEnded(logger, location.DatabasePath, last.Id, after);
            }

            var generation = placeholder with
            {
                // Every commit the snapshot holds was made before now: its time as a point, which a restore to an earlier time must not take.
                StartedAt = time.GetUtcNow(),
                BaseBackup = snapshot.Backup.Filename,
                BaseBackupTimestamp = snapshot.Backup.Timestamp,
                After = after,
                Start = snapshot.Position,
                Format = GenerationManifest.CurrentFormat,
                Number = store.NextNumber(location.DatabasePath),
                StartHash = PageHashes.Format(snapshot.Hashes.Checksum),
                Pinned = true,
            };
            store.WriteGeneration(generation);
            session.Generation = generation;
            session._lastStamp = generation.StartedAt;
            var afterText = after is null ? "" : $" (after: {after})";
            var position = Describe(snapshot.Position);
            PersistenceLog.ReplicationGenerationStarted(logger, location.DatabasePath, id, snapshot.Backup.Filename, position, afterText);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
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

    /// <summary>What one poll did.</summary>
    /// <param name="Segment">The segment written, when there were new commits (the last, when more than one was).</param>
    /// <param name="CaughtUpAt">Every commit before this time is now in a durable segment.</param>
    /// <param name="LogBytes">The log's size.</param>
    /// <param name="Checkpointed">Whether the session checkpointed so the log can restart.</param>
    public sealed record PollResult(SegmentManifest? Segment, DateTimeOffset CaughtUpAt, long LogBytes, bool Checkpointed)
    {
        /// <summary>Every segment made durable by this call, in order (a log that restarted ends one).</summary>
        public IReadOnlyList<SegmentManifest> Segments { get; init; } = Segment is null ? [] : [Segment];
    }

    /// <summary>Copies every commit since the last poll into a durable segment; checkpoints when the log has grown.</summary>
    /// <exception cref="ReplicationBrokenException">The history cannot be followed: a new generation must start.</exception>
    public PollResult Poll()
    {
        var started = _time.GetUtcNow();
        var closed = new List<SegmentManifest>();
        var checkpointed = Step(started, closed);
        if (_open is not null)
        {
            closed.Add(Close());
        }

        return Result(closed, started, checkpointed);
    }

    /// <summary>
    /// Between polls: copies the commits since the last step into the open segment (not yet durable), and checkpoints
    /// when the log has passed <see cref="Configuration.ReplicationOptions.CheckpointBytes"/>, so that a writer faster
    /// than one poll's worth of log a second cannot grow it far past the threshold. A segment is made durable here only
    /// when the log restarted under it; the result is <see langword="null"/> when none was.
    /// </summary>
    /// <exception cref="ReplicationBrokenException">The history cannot be followed: a new generation must start.</exception>
    public PollResult? Tail()
    {
        var started = _time.GetUtcNow();
        var closed = new List<SegmentManifest>();
        var checkpointed = Step(started, closed);
        return closed.Count == 0 && !checkpointed ? null : Result(closed, _caughtUpAt, checkpointed);
    }

    private PollResult Result(List<SegmentManifest> closed, DateTimeOffset caughtUpAt, bool checkpointed)
    {
        var logBytes = RegularFile.LengthOrZero(WalPath);
        LogHighWaterBytes = Math.Max(LogHighWaterBytes, logBytes);
        return new PollResult(closed.Count > 0 ? closed[^1] : null, caughtUpAt, logBytes, checkpointed) { Segments = closed };
    }

    /// <summary>Hands the read over, copies what is new into the open segment, and checkpoints when the log has grown.</summary>
    private bool Step(DateTimeOffset started, List<SegmentManifest> closed)
    {
        if (NativeMethods.InodeOf(_location.DatabasePath) is { } inode && _inode is { } own && inode != own)
        {
            throw new ReplicationBrokenException($"the database file {_location.DatabasePath} was replaced");
        }

        Handover();
        if (Append(started) is { } ended)
        {
            closed.Add(ended);
        }

        if (_open is null)
        {
            _caughtUpAt = started;
        }

        // The log's length in use, not the file's: SQLite restarts a log by writing from its start again, so the
        // file keeps its largest size and would trigger a checkpoint at every poll under a trickle of commits.
        if (LogBytesInUse() < _checkpointBytes)
        {
            return false;
        }

        Checkpoint(started, closed);
        return true;
    }

    private long LogBytesInUse() => Position is { } at ? WalFormat.HeaderSize + (at.Frames * (WalFormat.FrameHeaderSize + (long)at.PageSize)) : 0;

    /// <summary>
    /// The time a segment is stamped with: now, read after its commits were copied (so every commit in it was made
    /// before it), but never earlier than the generation's last stamp, whatever the clock did.
    /// </summary>
    private DateTimeOffset Stamp(DateTimeOffset now)
    {
        if (now < _lastStamp)
        {
            if (_lastStamp - now > TimeSpan.FromSeconds(1))
            {
                PersistenceLog.ReplicationClockWentBack(_logger, _location.DatabasePath, UtcMillisecondsConverter.Format(now), (long)(_lastStamp - now).TotalSeconds, UtcMillisecondsConverter.Format(_lastStamp), Generation.Id);
            }

            now = _lastStamp;
        }

        return _lastStamp = now;
    }

    /// <summary>Closes the readers (they do not checkpoint: the connections are read-only).</summary>
    public void Dispose()
    {
        Abandon();
        _buffer.Dispose();
        for (var i = 0; i < 2; i++)
        {
            _transactions[i]?.Dispose();
            _transactions[i] = null;
            _readers[i]?.Dispose();
        }
    }

    /// <summary>
    /// The segment being filled: the commits copied since it began, in its temporary file, not yet durable. Between a
    /// copy and <see cref="Close"/> the frames are only in the log and that file: a crash before it leaves the stored
    /// generation at its last durable segment, which no longer follows the log, so the next start begins a new
    /// generation rather than leave a gap.
    /// </summary>
    private sealed class OpenSegment(string tempPath, FileStream file, long sequence, string name, WalPosition origin, ulong startHash, bool resumedByContent) : IDisposable
    {
        public string TempPath { get; } = tempPath;

        public FileStream File { get; } = file;

        public Sha256 Hash { get; } = new();

        public long Sequence { get; } = sequence;

        public string Name { get; } = name;

        public WalPosition Origin { get; } = origin;

        public ulong StartHash { get; } = startHash;

        public bool ResumedByContent { get; } = resumedByContent;

        public WalPosition To { get; set; } = origin;

        public int Commits { get; set; }

        public uint DatabasePages { get; set; }

        public long Bytes { get; set; }

        public ulong EndHash { get; set; } = startHash;

        /// <summary>When its last commits had been copied: every commit in it was made before.</summary>
        public DateTimeOffset SeenAt { get; set; }

        /// <summary>The start of the step that last copied into it: every commit before was in the log then, and is in it.</summary>
        public DateTimeOffset Covers { get; set; }

        public void Dispose()
        {
            File.Dispose();
            Hash.Dispose();
        }
    }

    /// <summary>
    /// Copies the commits since the position into the open segment (beginning one when there is none) and moves the
    /// position on. When the log restarted since the open segment's last frame, that segment is made durable first and
    /// returned: a segment holds the frames of one log. The content checksum follows every copied commit; any failure
    /// ends the session (its checksum is then ahead of the stored history), and the next one proves where it stands again.
    /// </summary>
    private SegmentManifest? Append(DateTimeOffset started)
    {
        var before = _hashes.Checksum;
        _buffer.SetLength(0);
        var read = WalTail.CopyCommitted(WalPath, Position, _buffer, null, Apply);
        var seenAt = _time.GetUtcNow();
        if (read.Continuity == WalTail.Continuity.Broken)
        {
            Abandon();
            throw new ReplicationBrokenException(read.Why!);
        }

        if (read.Bytes == 0)
        {
            Position = read.To ?? Position;
            return null;
        }

        var closed = _open is not null && _open.To != read.From ? Close() : null;
        _open ??= Begin(read.From!, before);
        var bytes = _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length);
        _open.File.Write(bytes);
        _open.Hash.Append(bytes);
        _open.To = read.To!;
        _open.Commits += read.Commits;
        _open.DatabasePages = read.DatabasePages;
        _open.Bytes += read.Bytes;
        _open.EndHash = _hashes.Checksum;
        _open.SeenAt = seenAt;
        _open.Covers = started;
        Position = read.To;
        return closed;
    }

    private OpenSegment Begin(WalPosition origin, ulong startHash)
    {
        var name = ReplicationStore.SegmentName(NextSequence);
        var temp = Path.Combine(_store.DirectoryOf(Generation.Id), name) + Durable.TempSuffix;
        var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var open = new OpenSegment(temp, file, NextSequence, name, origin, startHash, _resumedByContent);
        _resumedByContent = false;
        NextSequence++;
        return open;
    }

    /// <summary>Brings the content checksum past one copied transaction: its pages, then the database's size after it.</summary>
    private void Apply(IReadOnlyList<byte[]> frames, uint databasePages)
    {
        foreach (var frame in frames)
        {
            _hashes.Set(WalFormat.PageNumber(frame), frame.AsSpan(WalFormat.FrameHeaderSize));
        }

        _hashes.Resize(databasePages);
    }

    /// <summary>Makes the open segment durable: fsyncs it, renames it into place and writes its manifest.</summary>
    private SegmentManifest Close()
    {
        var open = _open!;
        _open = null;
        try
        {
            open.File.Flush(flushToDisk: true);
            open.File.Dispose();
            var seenAt = Stamp(open.SeenAt);
            var manifest = new SegmentManifest
            {
                Generation = Generation.Id,
                Sequence = open.Sequence,
                Filename = open.Name,
                Salt1 = open.Origin.Salt1,
                Salt2 = open.Origin.Salt2,
                CheckpointSequence = open.Origin.CheckpointSequence,
                FirstFrame = open.Origin.Frames + 1,
                LastFrame = open.To.Frames,
                StartChain = [open.Origin.S1, open.Origin.S2],
                EndChain = [open.To.S1, open.To.S2],
                PageSize = open.Origin.PageSize,
                BigEndianChecksums = open.Origin.BigEndianChecksums,
                Commits = open.Commits,
                DatabasePages = open.DatabasePages,
                FirstCommitAt = seenAt,
                LastCommitAt = seenAt,
                Size = open.Bytes,
                Checksum = open.Hash.Finish(),
                Format = GenerationManifest.CurrentFormat,
                StartHash = PageHashes.Format(open.StartHash),
                EndHash = PageHashes.Format(open.EndHash),
                ResumedByContent = open.ResumedByContent ? true : null,
            };
            var committed = _store.Commit(open.TempPath, manifest);
            _caughtUpAt = open.Covers;
            return committed;
        }
        finally
        {
            open.Dispose();
        }
    }

    /// <summary>Drops the open segment's temporary file (the session is ending without it).</summary>
    private void Abandon()
    {
        if (_open is { } open)
        {
            _open = null;
            open.Dispose();
            try
            {
                File.Delete(open.TempPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A temporary file is never taken for a segment (it has no manifest); the session's own error, if any, is the one to report.
            }
        }
    }

    /// <summary>
    /// Lets the log restart: with the write lock held (writers wait, readers do not), copies the last
    /// commits, checkpoints every frame, and opens the next reader before releasing the lock, so the first
    /// writer after it restarts the log and no frame leaves it uncopied. The open segment is made durable
    /// at the next poll, or at the next step that finds the log restarted.
    /// </summary>
    private void Checkpoint(DateTimeOffset started, List<SegmentManifest> closed)
    {
        // Most frames are checkpointed before the lock is taken, so that holding it costs little; under it
        // the last commits are only copied (made durable once it is released) and the rest checkpointed.
        using var checkpointer = _connections.OpenForProbe(_location.DatabasePath);
        RunCheckpoint(checkpointer);
        using var writer = _connections.OpenForProbe(_location.DatabasePath);
        LockWriters(writer);
        try
        {
            if (Append(started) is { } ended)
            {
                closed.Add(ended);
            }

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
    }

    /// <summary>How long <see cref="LockWriters"/> tries back to back before it yields the processor between tries.</summary>
    private static readonly TimeSpan TightTries = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Takes the write lock (<c>BEGIN IMMEDIATE</c>) against a writer that commits back to back. SQLite's own busy
    /// handler sleeps between tries (1, 2, 5, 10 … 100 ms), and a writer that takes the lock again a few microseconds
    /// after each commit holds it at every try: measured here, the checkpoint then waited up to seconds while the log
    /// grew. Trying again at once (yielding the processor between tries) takes the lock in one of those gaps.
    /// </summary>
    /// <exception cref="SqliteException">The lock was not had within the connection's busy timeout, or SQLite failed.</exception>
    private void LockWriters(SqliteConnection connection)
    {
        var handle = connection.Handle!;
        SQLitePCL.raw.sqlite3_busy_timeout(handle, 0);
        var started = _time.GetTimestamp();
        var spin = default(SpinWait);
        while (true)
        {
            var rc = SQLitePCL.raw.sqlite3_exec(handle, "BEGIN IMMEDIATE");
            if (rc == SQLitePCL.raw.SQLITE_OK)
            {
                return;
            }

            if ((rc & 0xFF) != SQLitePCL.raw.SQLITE_BUSY || _time.GetElapsedTime(started) > _connections.BusyTimeout)
            {
                SqliteException.ThrowExceptionForRC(rc, handle);
            }

            // The writer leaves the lock free for microseconds between commits: tries back to back find that gap
            // within milliseconds, where yielding the processor between tries left it to be preempted for hundreds.
            if (_time.GetElapsedTime(started) < TightTries)
            {
                Thread.SpinWait(50);
            }
            else
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
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
