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
public sealed partial class ReplicationSession : IDisposable
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
    private (long? At, long Bytes) _growth;
    private TimeSpan _checkpointTook;
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
        Append(started, closed);

        if (_open is null)
        {
            _caughtUpAt = started;
        }

        // The log's length in use, not the file's: SQLite restarts a log by writing from its start again, so the
        // file keeps its largest size and would trigger a checkpoint at every poll under a trickle of commits.
        if (!CheckpointDue(LogBytesInUse()))
        {
            return false;
        }

        var checkpointing = _time.GetTimestamp();
        Checkpoint(started, closed);
        _checkpointTook = _time.GetElapsedTime(checkpointing);
        _growth = (null, 0);
        return true;
    }

    /// <summary>
    /// Whether the log is at the threshold, or will be before a checkpoint begun now could end: the log's growth since the
    /// last step, at the same rate for one more step and for as long as the last checkpoint took. A trickle of commits
    /// checkpoints at the threshold; a writer at full speed (tens of MiB a second) early enough that the log stays near it.
    /// </summary>
    private bool CheckpointDue(long inUse)
    {
        var now = _time.GetTimestamp();
        var ahead = 0.0;
        if (_growth is ({ } then, var before) && inUse >= before)
        {
            var elapsed = _time.GetElapsedTime(then, now);
            if (elapsed > TimeSpan.Zero)
            {
                ahead = (inUse - before) / elapsed.TotalSeconds * (elapsed + _checkpointTook).TotalSeconds;
            }
        }

        _growth = (now, inUse);

        // Early only for a log growing by a quarter of the threshold or more in that time (a steady writer's checkpoints,
        // each a moment with writers held, stay as few as the threshold makes them), and never for a log a quarter of
        // the threshold or less (a checkpoint as the log restarts would only hold writers up).
        var quarter = _checkpointBytes / 4;
        return inUse >= _checkpointBytes || (ahead >= quarter && inUse > quarter && inUse + ahead >= _checkpointBytes);
    }

    private long LogBytesInUse() => Position is { } at ? WalFormat.HeaderSize + (at.Frames * FrameBytes()) : 0;

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

}
