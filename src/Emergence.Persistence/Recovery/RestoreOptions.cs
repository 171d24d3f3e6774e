using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Recovery;

/// <summary>How a restore goes about it, whatever its source and target.</summary>
public sealed record RestoreOptions
{
    /// <summary>Why the restore happens, for the log and the restore record.</summary>
    public required string Why { get; init; }

    /// <summary>Whether to replace a database that is healthy.</summary>
    public bool Force { get; init; }

    /// <summary>Receives copy, download and check progress.</summary>
    public IProgress<OperationProgress>? Progress { get; init; }

    /// <summary>The caller found the database damaged: it is quarantined exactly as found, without first folding its WAL in.</summary>
    public bool KnownDamaged { get; init; }

    /// <summary>A replay that would end with a database that lost every table is refused (startup recovery of an emptied database).</summary>
    public bool RefuseEmptied { get; init; }
}
