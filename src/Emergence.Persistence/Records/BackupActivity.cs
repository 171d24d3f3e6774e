namespace Emergence.Persistence.Records;

/// <summary>
/// The outcome of the most recent backup attempt, for the health report. It is kept in memory and in
/// <see cref="FileName"/> in the backup directory, so that <c>emergence-db status</c> beside the app
/// reports the app's failed timer run too (and a full disk that cannot take the file still shows in
/// the app's own health).
/// </summary>
public sealed class BackupActivity
{
    /// <summary>The file, in the backup directory, that records the last failure until a backup succeeds.</summary>
    public const string FileName = ".last-backup-error.json";

    private readonly VolumeRecord<BackupError> _record = new(FileName, ex => new BackupError(DateTimeOffset.MinValue, $"the last backup error file cannot be read: {ex.Message}"));

    /// <summary>A failed backup attempt.</summary>
    /// <param name="At">When it failed (UTC).</param>
    /// <param name="Message">What failed, with the step, path and cause.</param>
    public sealed record BackupError(DateTimeOffset At, string Message);

    /// <summary>The last failure recorded by this process, or <see langword="null"/>.</summary>
    public BackupError? LastError => _record.Own;

    /// <summary>The last failure: this process's, else the one recorded on the volume by any process.</summary>
    public BackupError? LastErrorFor(string backupDirectory) => _record.Latest(backupDirectory);

    /// <summary>Records a successful backup, clearing the last error here and on the volume.</summary>
    public void RecordSuccess(string backupDirectory) => _record.Clear(backupDirectory);

    /// <summary>Records a failed backup here and, when the volume takes it (a read-only or full one cannot; this process's health still has it), in the backup directory.</summary>
    public void RecordFailure(string backupDirectory, DateTimeOffset at, string message) => _record.Record(backupDirectory, new BackupError(at, message));
}
