namespace Emergence.Persistence.Backups;

/// <summary>Why a backup was taken; recorded in its manifest.</summary>
public enum BackupReason
{
    /// <summary>The backup timer ran.</summary>
    Scheduled,

    /// <summary>The app started with a database that changed since the newest backup (the pre-deployment backup).</summary>
    Startup,

    /// <summary>Migrations were about to change the schema.</summary>
    PreMigration,

    /// <summary>An operator asked for one.</summary>
    Manual,

    /// <summary>The snapshot a replication generation starts from.</summary>
    Replication,
}

/// <summary>The manifest spelling of <see cref="BackupReason"/> values.</summary>
public static class BackupReasonNames
{
    /// <summary>Returns <c>scheduled</c>, <c>startup</c>, <c>pre-migration</c> or <c>manual</c>.</summary>
    public static string ToManifestName(this BackupReason reason) => reason switch
    {
        BackupReason.Scheduled => "scheduled",
        BackupReason.Startup => "startup",
        BackupReason.PreMigration => "pre-migration",
        BackupReason.Manual => "manual",
        BackupReason.Replication => "replication",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
