using System.Text.Json.Serialization;

namespace Emergence.Persistence.Records;

/// <summary>
/// The replicator's state for the health report: kept in memory, and in <see cref="FileName"/> in the backup
/// directory (written when the generation or the error changes, and at most every
/// <see cref="PersistInterval"/> otherwise), so <c>emergence-db status</c> beside the app reports it too.
/// </summary>
public sealed class ReplicationActivity
{
    /// <summary>The file, in the backup directory, that holds the state.</summary>
    public const string FileName = ".replication.json";

    /// <summary>How often an unchanged-but-advancing state is written to the volume.</summary>
    public static readonly TimeSpan PersistInterval = TimeSpan.FromSeconds(10);

    private readonly VolumeRecord<ReplicationState> _record = new(FileName, _ => null);
    private readonly Lock _gate = new();
    private ReplicationState? _state;
    private DateTimeOffset _persisted = DateTimeOffset.MinValue;

    /// <summary>The replicator's state.</summary>
    /// <param name="Generation">The generation being written.</param>
    /// <param name="CaughtUpAt">Every commit before this time is in a durable segment.</param>
    /// <param name="LastSegment">The newest segment's file name.</param>
    /// <param name="LastSegmentAt">When it was written.</param>
    /// <param name="OffsiteCaughtUpAt">Every segment closed before this time is in the off-volume container (when configured).</param>
    /// <param name="LastError">The last failure, until a poll succeeds.</param>
    /// <param name="RecordedAt">When this state was recorded.</param>
    /// <param name="LogBytes">The <c>-wal</c> file's size at the last poll.</param>
    /// <param name="LogHighWaterBytes">Its largest size seen by this replicator.</param>
    /// <param name="OffsiteLastError">The last failure copying segments off the volume, until a pass succeeds.</param>
    /// <param name="DatabasePath">The database replicated: a backup directory shared by two databases holds one state, and another database's is not this one's.</param>
    /// <param name="HistoryProblem">What the last audit of the history found damaged or missing (naming the generation, the segment and the newest provable point), if anything.</param>
    public sealed record ReplicationState(
        string? Generation,
        [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset? CaughtUpAt,
        string? LastSegment,
        [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset? LastSegmentAt,
        [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset? OffsiteCaughtUpAt,
        string? LastError,
        [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset RecordedAt,
        long LogBytes,
        long LogHighWaterBytes,
        string? OffsiteLastError = null,
        string? DatabasePath = null,
        string? HistoryProblem = null)
    {
        /// <summary>Why the restore window is shorter than the setting asks (the history was thinned for space), while it is.</summary>
        public string? WindowProblem { get; init; }

        /// <summary>A state with nothing known yet, recorded at <paramref name="now"/>.</summary>
        public static ReplicationState Empty(DateTimeOffset now) => new(null, null, null, null, null, null, now, 0, 0);
    }

    /// <summary>This process's state, else the one recorded on the volume by any process; with <paramref name="databasePath"/>, only a state of that database.</summary>
    public ReplicationState? StateFor(string backupDirectory, string? databasePath = null)
    {
        ReplicationState? state;
        lock (_gate)
        {
            state = _state;
        }

        state ??= _record.Read(backupDirectory);
        return databasePath is null || IsOf(state, databasePath) ? state : null;
    }

    /// <summary>
    /// Records the state <paramref name="change"/> makes of the current one of <paramref name="databasePath"/> (this
    /// process's, else the volume's when it is that database's, else <see langword="null"/>) atomically, so the
    /// replicator and the off-volume upload never undo each other's fields; the state always names its database, so a
    /// backup directory shared by two databases never shows one the other's state. Written to the volume when it
    /// changed in kind or the last write is old.
    /// </summary>
    public void Update(string backupDirectory, string databasePath, Func<ReplicationState?, ReplicationState> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var recorded = _state is null ? _record.Read(backupDirectory) : null;
        lock (_gate)
        {
            var current = _state ?? recorded;
            var state = change(IsOf(current, databasePath) ? current : null) with { DatabasePath = databasePath };
            var persist = _state is null || _state.Generation != state.Generation || _state.LastError != state.LastError || _state.OffsiteLastError != state.OffsiteLastError
                || _state.HistoryProblem != state.HistoryProblem || _state.DatabasePath != state.DatabasePath || state.RecordedAt - _persisted >= PersistInterval;
            _state = state;
            if (persist)
            {
                // Written under the lock, so an older state never lands on the volume after a newer one.
                _persisted = state.RecordedAt;
                _record.Write(backupDirectory, state);
            }
        }
    }

    /// <summary>Whether <paramref name="state"/> is <paramref name="databasePath"/>'s (a state written before states named their database counts as any one's).</summary>
    private static bool IsOf(ReplicationState? state, string databasePath) =>
        state?.DatabasePath is not { } of || string.Equals(of, databasePath, StringComparison.Ordinal);
}
