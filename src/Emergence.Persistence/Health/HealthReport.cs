using Emergence.Persistence.Backups;
using Emergence.Persistence.Volumes;

namespace Emergence.Persistence.Health;

/// <summary>The health report: the body of <c>GET /api/health</c> and <c>emergence-db status --json</c>.</summary>
public sealed record HealthReport
{
    /// <summary>The verdict.</summary>
    public required HealthStatus Status { get; init; }

    /// <summary>When the report was made (UTC).</summary>
    public required DateTimeOffset CheckedAt { get; init; }

    /// <summary>The database directory's volume.</summary>
    public required VolumeStatus Volume { get; init; }

    /// <summary>The database file.</summary>
    public required DatabaseReport Database { get; init; }

    /// <summary>The backups.</summary>
    public required BackupsReport Backups { get; init; }

    /// <summary>One plain sentence per thing that is wrong.</summary>
    public required IReadOnlyList<string> Problems { get; init; }
}

/// <summary>The <c>database</c> object of the health report.</summary>
public sealed record DatabaseReport
{
    /// <summary>The database file in use.</summary>
    public required string Path { get; init; }

    /// <summary>Whether it is on a mounted volume (and the one Railway announced, when it announced one).</summary>
    public required bool OnVolume { get; init; }

    /// <summary>Whether the fallback directory is in use.</summary>
    public required bool Fallback { get; init; }

    /// <summary>The configured database file.</summary>
    public required string ConfiguredPath { get; init; }

    /// <summary>Whether the file exists.</summary>
    public required bool Exists { get; init; }

    /// <summary>Its size in bytes, with its WAL.</summary>
    public required long Size { get; init; }

    /// <summary>The SQLite version in use.</summary>
    public required string SqliteVersion { get; init; }

    /// <summary>The schema version, when the database could be read.</summary>
    public int? UserVersion { get; init; }

    /// <summary>The last integrity check of the live database, when one has run.</summary>
    public IntegrityReport? Integrity { get; init; }

    /// <summary>Why the fallback directory is in use, when it is.</summary>
    public string? FallbackReason { get; init; }

    /// <summary>The last restore of this database (startup recovery, a restore request or the CLI), or <see langword="null"/>.</summary>
    public RestoreReport? LastRestore { get; init; }
}

/// <summary>The <c>database.last_restore</c> object: the last time a backup was put in place of the live database.</summary>
public sealed record RestoreReport
{
    /// <summary>When the restored database was put in place (UTC).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Seconds since then.</summary>
    public required long AgeSeconds { get; init; }

    /// <summary>The backup restored.</summary>
    public required string Backup { get; init; }

    /// <summary>Why (e.g. the database was missing or failed its check, or an operator asked).</summary>
    public required string Reason { get; init; }

    /// <summary>Where the replaced files went, or <see langword="null"/> when nothing was replaced.</summary>
    public string? Quarantine { get; init; }
}

/// <summary>The <c>database.integrity</c> object: the last check of the live database.</summary>
public sealed record IntegrityReport
{
    /// <summary>When it ran (UTC).</summary>
    public required DateTimeOffset CheckedAt { get; init; }

    /// <summary><c>ok</c>, or the first problem found.</summary>
    public required string Result { get; init; }

    /// <summary>What ran it: <c>backup</c> (the backup's check of its page-exact copy), <c>periodic</c>, <c>startup</c>, <c>restore</c> or <c>status</c>.</summary>
    public required string Source { get; init; }
}

/// <summary>The <c>backups</c> object of the health report.</summary>
public sealed record BackupsReport
{
    /// <summary>The backup directory.</summary>
    public required string Directory { get; init; }

    /// <summary>Verified backups present.</summary>
    public required int Count { get; init; }

    /// <summary>The newest verified backup's manifest.</summary>
    public BackupManifest? Latest { get; init; }

    /// <summary>Seconds since the newest verified backup was taken.</summary>
    public long? LatestAgeSeconds { get; init; }

    /// <summary>When the schedule next runs a backup.</summary>
    public DateTimeOffset? NextDue { get; init; }

    /// <summary>The last backup failure of this process, when the last attempt failed.</summary>
    public string? LastError { get; init; }

    /// <summary>Off-volume copies, when configured.</summary>
    public OffsiteReport? Offsite { get; init; }

    /// <summary>Continuous WAL replication, once a replicator has recorded its state.</summary>
    public ReplicationReport? Replication { get; init; }
}

/// <summary>The <c>backups.replication</c> object of the health report.</summary>
public sealed record ReplicationReport
{
    /// <summary>The generation being written.</summary>
    public string? Generation { get; init; }

    /// <summary>Seconds since the moment up to which every commit is in a durable segment: at most this much is at risk on the volume.</summary>
    public long? LagSeconds { get; init; }

    /// <summary>When the newest segment's last commit was seen.</summary>
    public DateTimeOffset? LastSegmentAt { get; init; }

    /// <summary>The newest segment's file name.</summary>
    public string? LastSegment { get; init; }

    /// <summary>Seconds since the moment up to which every closed segment is off the volume; <see langword="null"/>: segments are not copied off the volume.</summary>
    public long? OffsiteLagSeconds { get; init; }

    /// <summary>The last failure, until a poll succeeds.</summary>
    public string? LastError { get; init; }

    /// <summary>The last failure copying segments off the volume, until a pass succeeds.</summary>
    public string? OffsiteLastError { get; init; }

    /// <summary>The <c>-wal</c> file's size at the last poll.</summary>
    public long LogBytes { get; init; }

    /// <summary>Its largest size seen by the running replicator.</summary>
    public long LogHighWaterBytes { get; init; }

    /// <summary>What the replicator's last audit found damaged or missing in the history (the windows end there), or <see langword="null"/>.</summary>
    public string? HistoryProblem { get; init; }

    /// <summary>Why the restore window is shorter than <c>Persistence__Replication__RestoreWindowDays</c> (the history was thinned to leave the volume room), while it is; <see langword="null"/> otherwise.</summary>
    public string? WindowProblem { get; init; }
}

/// <summary>The <c>backups.offsite</c> object of the health report: copies off the volume (Azure Blob Storage, an S3 bucket, or both) and the restore drill.</summary>
public sealed record OffsiteReport
{
    /// <summary>The container holding the copies.</summary>
    public required string Container { get; init; }

    /// <summary>The newest backup copied off the volume.</summary>
    public string? LastUpload { get; init; }

    /// <summary>When that copy finished.</summary>
    public DateTimeOffset? LastUploadAt { get; init; }

    /// <summary>Seconds since the newest copied backup was taken.</summary>
    public long? LastUploadAgeSeconds { get; init; }

    /// <summary>Complete backups in the container after the last successful upload run.</summary>
    public int? Count { get; init; }

    /// <summary>Why the last upload run failed, until one succeeds.</summary>
    public string? LastError { get; init; }

    /// <summary>The last restore drill.</summary>
    public DrillReport? Drill { get; init; }

    /// <summary>Each target on its own (one entry per configured target: the container, the bucket); the fields above are the worst of them.</summary>
    public IReadOnlyList<OffsiteTargetReport> Targets { get; init; } = [];
}

/// <summary>One off-volume target in <c>backups.offsite.targets</c>: its lag and last error.</summary>
public sealed record OffsiteTargetReport
{
    /// <summary>The kind of target: <c>azure</c> or <c>s3</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The container or bucket (with its key prefix).</summary>
    public required string Container { get; init; }

    /// <summary>The newest backup copied to it.</summary>
    public string? LastUpload { get; init; }

    /// <summary>When that copy finished.</summary>
    public DateTimeOffset? LastUploadAt { get; init; }

    /// <summary>Seconds since the newest backup copied to it was taken.</summary>
    public long? LastUploadAgeSeconds { get; init; }

    /// <summary>Complete backups in it after its last successful upload run.</summary>
    public int? Count { get; init; }

    /// <summary>Why its last upload run failed, until one succeeds.</summary>
    public string? LastError { get; init; }
}

/// <summary>The <c>backups.offsite.drill</c> object: the last restore drill's result and age.</summary>
public sealed record DrillReport
{
    /// <summary>When the drill ran.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Seconds since the drill ran.</summary>
    public required long AgeSeconds { get; init; }

    /// <summary>Whether the newest off-volume backup downloaded and verified (SHA-256 and <c>integrity_check</c>).</summary>
    public required bool Ok { get; init; }

    /// <summary>The backup drilled.</summary>
    public string? Backup { get; init; }

    /// <summary>Seconds between that backup being taken and the drill.</summary>
    public long? BackupAgeSeconds { get; init; }

    /// <summary>The newest point the drill restored: the last segment commit replayed onto the backup, else the backup's time.</summary>
    public DateTimeOffset? RestoredTo { get; init; }

    /// <summary>Seconds between that point and the drill: what a lost volume would have cost then.</summary>
    public long? PointAgeSeconds { get; init; }

    /// <summary>How many segments copied off the volume were replayed after the backup.</summary>
    public int Segments { get; init; }

    /// <summary>What failed.</summary>
    public string? Problem { get; init; }

    /// <summary>When the schedule next runs a drill.</summary>
    public DateTimeOffset? NextDue { get; init; }
}
