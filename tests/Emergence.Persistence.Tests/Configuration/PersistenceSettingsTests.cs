using Emergence.Persistence.Configuration;
using Microsoft.Extensions.Configuration;

namespace Emergence.Persistence.Tests.Configuration;

public sealed class PersistenceSettingsTests
{
    private static PersistenceOptions Bind(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var options = new PersistenceOptions();
        PersistenceSettings.Bind(configuration, options);
        return options;
    }

    [Fact]
    public void Bind_NothingSet_UsesTheDocumentedDefaults()
    {
        var options = Bind();

        Assert.Equal(Path.GetFullPath("data/database.sqlite"), options.DatabasePath);
        Assert.Equal(Path.Combine(Path.GetFullPath("data"), "backups"), options.BackupDirectoryFor(options.DatabasePath));
        Assert.Equal(5, options.KeepBackups);
        Assert.False(options.RequireVolume);
        Assert.Equal("0 0 * * * *", options.BackupSchedule);
        Assert.True(Path.IsPathFullyQualified(options.FallbackDirectory));
    }

    [Theory]
    [InlineData("Persistence:KeepBackups", "-1", "Persistence__KeepBackups='-1' is invalid: expected a whole number from 1 to 1000.")]
    [InlineData("Persistence:KeepBackups", "0", "Persistence__KeepBackups='0' is invalid: expected a whole number from 1 to 1000.")]
    [InlineData("Persistence:KeepBackups", "1001", "Persistence__KeepBackups='1001' is invalid: expected a whole number from 1 to 1000.")]
    [InlineData("Persistence:KeepBackups", "five", "Persistence__KeepBackups='five' is invalid: expected a whole number from 1 to 1000.")]
    [InlineData("Persistence:RequireVolume", "yes", "Persistence__RequireVolume='yes' is invalid: expected true or false.")]
    [InlineData("Persistence:FallbackDirectory", "tmp/fallback", "Persistence__FallbackDirectory='tmp/fallback' is invalid: expected an absolute directory path.")]
    [InlineData("Persistence:Compression", "zstd", "Persistence__Compression='zstd' is invalid: expected none or brotli.")]
    [InlineData("Persistence:LockTimeoutSeconds", "-5", "Persistence__LockTimeoutSeconds='-5' is invalid: expected a whole number of seconds, 0 or more.")]
    [InlineData("Persistence:Replication:Enabled", "on", "Persistence__Replication__Enabled='on' is invalid: expected true or false.")]
    [InlineData("Persistence:Replication:IntervalSeconds", "0", "Persistence__Replication__IntervalSeconds='0' is invalid: expected a whole number of seconds from 1 to 60.")]
    [InlineData("Persistence:Replication:MaxLagSeconds", "1.5", "Persistence__Replication__MaxLagSeconds='1.5' is invalid: expected a whole number of seconds from 1 to 86400.")]
    [InlineData("Persistence:Replication:CheckpointBytes", "1024", "Persistence__Replication__CheckpointBytes='1024' is invalid: expected a whole number of bytes from 65536 to 17179869184.")]
    [InlineData("BACKUP_SCHEDULE", "0 * * * *", "BACKUP_SCHEDULE='0 * * * *' is invalid: expected a 6-field NCRONTAB expression 'sec min hour day month weekday', e.g. '0 0 * * * *' for hourly.")]
    public void Bind_BadValue_ThrowsOneLineNamingTheSettingTheValueAndWhatIsAccepted(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind((key, value)));

        Assert.Equal("Setting " + expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Bind_UnparsableScheduleWithSixFields_NamesTheSetting()
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("BACKUP_SCHEDULE", "0 0 25 * * *")));

        Assert.StartsWith("Setting BACKUP_SCHEDULE='0 0 25 * * *' is invalid: expected a 6-field NCRONTAB expression", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_RelativePathWhileVolumeRequired_IsRejected()
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("Persistence:RequireVolume", "true"), ("Persistence:DatabasePath", "data/database.sqlite")));

        Assert.Equal("Persistence__DatabasePath", error.Setting);
        Assert.Contains("absolute path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_DatabasePathThatIsADirectory_IsRejected()
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("Persistence:DatabasePath", Path.GetTempPath())));

        Assert.Contains("not a directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_ValidValues_AreApplied()
    {
        var options = Bind(
            ("Persistence:DatabasePath", "/app/data/app.db"),
            ("Persistence:BackupDirectory", "/app/data/snapshots"),
            ("Persistence:KeepBackups", "12"),
            ("Persistence:RequireVolume", "True"),
            ("BACKUP_SCHEDULE", "0 */15 * * * *"));

        Assert.Equal("/app/data/app.db", options.DatabasePath);
        Assert.Equal("/app/data/snapshots", options.BackupDirectoryFor(options.DatabasePath));
        Assert.Equal(12, options.KeepBackups);
        Assert.True(options.RequireVolume);
        Assert.Equal("0 */15 * * * *", options.BackupSchedule);
    }
}
