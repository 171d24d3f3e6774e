using System.Text.Json.Serialization;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Replication;

/// <summary>
/// The start of one unbroken history: a verified backup (the snapshot) and the log position from which
/// segments cover every later commit. Written before the first segment; a restore replays a generation's
/// segments only on a backup taken after it started.
/// </summary>
public sealed record GenerationManifest
{
    /// <summary>The generation's id (sortable: its start time, then a random part).</summary>
    public required string Id { get; init; }

    /// <summary>When it started (UTC).</summary>
    [JsonConverter(typeof(UtcMillisecondsConverter))]
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>The database replicated.</summary>
    public required string DatabasePath { get; init; }

    /// <summary>The verified backup taken as its snapshot (a file name in the backup directory).</summary>
    public required string BaseBackup { get; init; }

    /// <summary>That backup's timestamp.</summary>
    public required DateTimeOffset BaseBackupTimestamp { get; init; }

    /// <summary>Why the previous generation ended, when one did.</summary>
    public string? After { get; init; }

    /// <summary>The log position the segments start from: everything before it is in the snapshot (<see langword="null"/>: there was no log yet; segments start at the first one).</summary>
    public WalPosition? Start { get; init; }

    /// <summary>The history format: 2 (content checksums, exact positions); <see langword="null"/> for the first format, which is listed but never replayed.</summary>
    public int? Format { get; init; }

    /// <summary>Its place among the database's generations, one more than the highest before it (ids sort by a clock that may have been wrong).</summary>
    public long? Number { get; init; }

    /// <summary>The content checksum of the snapshot (<see cref="Database.PageHashes"/>): the state at <see cref="Start"/>.</summary>
    public string? StartHash { get; init; }

    /// <summary>Whether the snapshot's log point was read while no writer could commit (always, in format 2).</summary>
    public bool? Pinned { get; init; }

    /// <summary>The current format.</summary>
    public const int CurrentFormat = 2;

    /// <summary>Whether the history can be proven (format 2 or later, with a start checksum).</summary>
    [JsonIgnore]
    public bool IsProvable => Format >= CurrentFormat && StartHash is not null;
}
