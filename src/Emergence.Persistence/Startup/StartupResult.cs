using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Volumes;

namespace Emergence.Persistence.Startup;

/// <summary>What the startup sequence did, and the volume lock it holds for the app's lifetime.</summary>
public sealed record StartupResult
{
    /// <summary>Where the database is.</summary>
    public required DatabaseLocation Location { get; init; }

    /// <summary>The volume lock, held until disposed; <see langword="null"/> when it could not be taken.</summary>
    public VolumeLock? Lock { get; init; }

    /// <summary>The restore an operator requested with <c>restore --on-next-start</c>, when one was performed.</summary>
    public RestoreResult? RequestedRestore { get; init; }

    /// <summary>What recovery found and did.</summary>
    public RecoveryOutcome? Recovery { get; init; }

    /// <summary>The backup of a database that changed since its newest backup, when one was taken.</summary>
    public BackupManifest? StartupBackup { get; init; }

    /// <summary>What migrations did.</summary>
    public MigrationOutcome? Migrations { get; init; }

    /// <summary>The backup taken because the newest one was older than the schedule's interval.</summary>
    public BackupManifest? CatchUpBackup { get; init; }

    /// <summary>The step that failed (<c>lock</c>, <c>recover</c>, <c>migrate</c>…), or <see langword="null"/>.</summary>
    public string? FailedStep { get; init; }

    /// <summary>What went wrong at that step.</summary>
    public string? Failure { get; init; }

    /// <summary>Problems that did not stop startup (a failed backup, a failed restore request).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Whether startup reached the end: the database is usable and migrated.</summary>
    public bool Succeeded => FailedStep is null;

    /// <summary>The sentence health reports for a failed startup, or <see langword="null"/>.</summary>
    public string? FailureSentence => FailedStep is null ? null : $"Startup failed at step '{FailedStep}': {Failure}";
}
