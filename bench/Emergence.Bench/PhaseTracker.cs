using Emergence.Persistence.Backups;

namespace Emergence.Bench;

/// <summary>What was running when a concurrent writer's commit began, in the order each runs.</summary>
public enum WriterPhase
{
    /// <summary>Nothing: the quiet stretches.</summary>
    None,

    /// <summary>A backup's consistent copy into its temporary file.</summary>
    Copy,

    /// <summary>A backup's SHA-256, with its fsync beside it.</summary>
    Hash,

    /// <summary>A backup's quick_check (with the end of the fsync, when that outlasts the hash), rename and manifest.</summary>
    Check,

    /// <summary>Deleting a backup, as rotation does after every backup.</summary>
    Delete,

    /// <summary>The reference: <c>dd conv=fsync</c> of the database file.</summary>
    RawCopy,

    /// <summary>The reference: deleting that copy.</summary>
    RawDelete,
}

/// <summary>The phases of <see cref="WriterPhase"/> that make up a backup and the <c>dd</c> reference.</summary>
public static class WriterPhases
{
    /// <summary>A backup, with the delete rotation does after it.</summary>
    public static readonly WriterPhase[] Backup = [WriterPhase.Copy, WriterPhase.Hash, WriterPhase.Check, WriterPhase.Delete];

    /// <summary>The <c>dd conv=fsync</c> copy and its delete.</summary>
    public static readonly WriterPhase[] Raw = [WriterPhase.RawCopy, WriterPhase.RawDelete];
}

/// <summary>Turns a backup's progress reports into its phase; phases only move forward.</summary>
public sealed class PhaseTracker(Action<WriterPhase> entered) : IProgress<OperationProgress>
{
    public void Report(OperationProgress value) => entered(value.Phase switch
    {
        "copy" => WriterPhase.Copy,
        "checksum" or "synced" => WriterPhase.Hash,
        _ => WriterPhase.Check,
    });
}
