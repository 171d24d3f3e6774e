using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Tests.Backups;

public sealed class BackupNamingTests
{
    private readonly BackupNaming _naming = new("/app/data/database.sqlite");

    [Theory]
    [InlineData("database_backup_20250114_103000.sqlite", true)]
    [InlineData("database_backup_20250114_103000_2.sqlite", true)]
    [InlineData("database_backup_20250114_103000_17.sqlite", true)]
    [InlineData("database_backup_20250114_103000_1.sqlite", false)]
    [InlineData("database_backup_20250114_103000_0.sqlite", false)]
    [InlineData("database_backup_20250114_103000.sqlite.br", true)]
    [InlineData("database_backup_20250114_103000_2.sqlite.br", true)]
    [InlineData("database_backup_20250114_103000.sqlite.br.json", false)]
    [InlineData("database_backup_20250114_103000.br", false)]
    [InlineData("database_backup_20250114_103000.sqlite.json", false)]
    [InlineData("database_backup_20250114_103000.sqlite.tmp", false)]
    [InlineData("database_backup_20251314_103000.sqlite", false)]
    [InlineData("other_backup_20250114_103000.sqlite", false)]
    [InlineData("../database_backup_20250114_103000.sqlite", false)]
    [InlineData("/etc/passwd", false)]
    public void IsBackupName_Table_AcceptsOnlyThePattern(string name, bool expected)
    {
        Assert.Equal(expected, _naming.IsBackupName(name));
    }

    [Fact]
    public void NameFor_SecondSequence_AddsSuffix()
    {
        var at = new DateTimeOffset(2025, 1, 14, 10, 30, 0, TimeSpan.Zero);

        Assert.Equal("database_backup_20250114_103000.sqlite", _naming.NameFor(at, 1));
        Assert.Equal("database_backup_20250114_103000_2.sqlite", _naming.NameFor(at, 2));
    }

    [Fact]
    public void NameFor_DatabaseWithoutExtension_HasNoExtension()
    {
        var naming = new BackupNaming("/data/app");

        Assert.Equal("app_backup_20250114_103000", naming.NameFor(new DateTimeOffset(2025, 1, 14, 10, 30, 0, TimeSpan.Zero), 1));
    }

    [Theory]
    [InlineData("database_backup_20250114_103000.sqlite.tmp", true)]
    [InlineData("database_backup_20250114_103000.sqlite.json.tmp", true)]
    [InlineData("database_backup_20250114_103000.sqlite.tmp-journal", true)]
    [InlineData("database_backup_20250114_103000.sqlite", false)]
    [InlineData(".backup.lock", false)]
    [InlineData("database_backup_20250114_103000.sqlite.br.tmp", true)]
    [InlineData("database_backup_20250114_103000_2.sqlite.br.json.tmp", true)]
    [InlineData(".last-backup-error.json.tmp", true)]
    [InlineData(".integrity.json.tmp", true)]
    // Another program's files in a shared directory are never this project's leftovers.
    [InlineData("upload.tmp", false)]
    [InlineData("database.sqlite.tmp", false)]
    [InlineData("other_backup_20250114_103000.sqlite.tmp", false)]
    [InlineData("database_backup_2025_103000.sqlite.tmp", false)]
    [InlineData("notes.json.tmp", false)]
    [InlineData("x.tmp-journal", false)]
    public void IsTempFile_Table(string name, bool expected)
    {
        Assert.Equal(expected, new BackupNaming("/data/database.sqlite").IsTempFile(name));
    }
}
