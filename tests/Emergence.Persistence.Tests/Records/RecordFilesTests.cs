using Emergence.Persistence.Records;

namespace Emergence.Persistence.Tests.Records;

/// <summary>
/// The records' files as operators' scripts read them: each written exactly as these texts (the files are a contract),
/// and each read back by every store the same way.
/// </summary>
public sealed class RecordFilesTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 14, 10, 30, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("emergence-records-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Text(string name) => File.ReadAllText(Path.Combine(_directory, name)).ReplaceLineEndings("\n");

    [Fact]
    public void EveryRecord_IsWrittenExactlyAsBefore_AndReadsBack()
    {
        var backups = new BackupActivity();
        backups.RecordFailure(_directory, T0, "copy failed");
        new IntegrityRecord().Record(_directory, new IntegrityRecord.IntegrityResult(T0, "ok", "periodic", "/data/database.sqlite"));
        RestoreRecord.Write(_directory, new RestoreRecord.Restore(T0, "database_backup_20250114_103000.sqlite", "test", null, "/data/database.sqlite"));
        var offsite = new OffsiteActivity();
        offsite.RecordSuccess(_directory, new OffsiteActivity.UploadRecord("database_backup_20250114_103000.sqlite", T0, T0.AddMinutes(1)), 2, T0.AddMinutes(1));
        offsite.RecordDrill(_directory, new DrillResult(T0, true, "database_backup_20250114_103000.sqlite", T0, null, 1200) { RestoredTo = T0, Segments = 3 });

        Assert.Equal("{\n  \"at\": \"2025-01-14T10:30:00Z\",\n  \"message\": \"copy failed\"\n}", Text(BackupActivity.FileName));
        Assert.Equal("{\n  \"checked_at\": \"2025-01-14T10:30:00Z\",\n  \"result\": \"ok\",\n  \"source\": \"periodic\",\n  \"database_path\": \"/data/database.sqlite\",\n  \"ok\": true\n}", Text(IntegrityRecord.FileName));
        Assert.Equal("{\n  \"restored_at\": \"2025-01-14T10:30:00Z\",\n  \"backup\": \"database_backup_20250114_103000.sqlite\",\n  \"reason\": \"test\",\n  \"quarantine\": null,\n  \"database_path\": \"/data/database.sqlite\"\n}", Text(RestoreRecord.FileName));
        Assert.Equal("{\n  \"last_upload\": {\n    \"name\": \"database_backup_20250114_103000.sqlite\",\n    \"timestamp\": \"2025-01-14T10:30:00Z\",\n    \"at\": \"2025-01-14T10:31:00Z\"\n  },\n  \"count\": 2,\n  \"last_error\": null,\n  \"recorded_at\": \"2025-01-14T10:31:00Z\"\n}", Text(OffsiteActivity.StateFileName));
        Assert.Equal("{\n  \"at\": \"2025-01-14T10:30:00Z\",\n  \"ok\": true,\n  \"backup\": \"database_backup_20250114_103000.sqlite\",\n  \"backup_timestamp\": \"2025-01-14T10:30:00Z\",\n  \"problem\": null,\n  \"duration_ms\": 1200,\n  \"restored_to\": \"2025-01-14T10:30:00Z\",\n  \"segments\": 3\n}", Text(OffsiteActivity.DrillFileName));

        // Another process reads what this one wrote.
        Assert.Equal("copy failed", new BackupActivity().LastErrorFor(_directory)!.Message);
        Assert.Equal("periodic", new IntegrityRecord().LastFor(_directory, "/data/database.sqlite")!.Source);
        Assert.Equal(3, new OffsiteActivity().DrillFor(_directory)!.Segments);
        backups.RecordSuccess(_directory);
        Assert.False(File.Exists(Path.Combine(_directory, BackupActivity.FileName)));
    }
}
