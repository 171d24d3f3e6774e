using Emergence.Persistence.Backups;
using Emergence.Persistence.Offsite;

namespace Emergence.Persistence.Tests.Offsite;

public sealed class PendingUploadsTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 14, 10, 0, 0, TimeSpan.Zero);

    private static BackupEntry Local(int minute, int sequence = 1) => new()
    {
        Name = $"database_backup_2025011410{minute:D2}00{(sequence > 1 ? $"_{sequence}" : "")}.sqlite",
        Path = "/unused",
        Stamp = T0.AddMinutes(minute),
        Sequence = sequence,
        Size = 1,
    };

    private static OffsiteBackup Remote(BackupEntry local) => new()
    {
        Name = local.Name,
        Stamp = local.Stamp,
        Sequence = local.Sequence,
        Size = 1,
        Manifest = new BackupManifest
        {
            Timestamp = local.Stamp,
            Filename = local.Name,
            Size = 1,
            Checksum = new string('0', 64),
            SourcePath = "/db",
            BackupPath = "/b",
            Reason = "manual",
            QuickCheck = "ok",
            SqliteVersion = "3.53.3",
            PageSize = 4096,
            PageCount = 1,
            UserVersion = 1,
        },
    };

    [Fact]
    public void EmptyContainer_OnlyTheNewestLocalBackupIsCopied()
    {
        var local = new[] { Local(3), Local(2), Local(1) };

        Assert.Equal([local[0].Name], BackupUploader.Pending(local, []).Select(b => b.Name));
    }

    [Fact]
    public void ContainerBehind_ABackupStampedInTheFuture_IsCopiedLast()
    {
        // As the catalog orders them: a backup stamped in the future after every other one.
        var future = Local(0) with { Name = "database_backup_20250114_120000.sqlite", Stamp = T0.AddHours(2), IsFromTheFuture = true };
        var local = new[] { Local(3), Local(2), Local(1), future };

        var pending = BackupUploader.Pending(local, [Remote(local[2])]);

        Assert.Equal([local[1].Name, local[0].Name, future.Name], pending.Select(b => b.Name));
    }

    [Fact]
    public void ContainerBehind_EveryNewerLocalBackup_OldestFirst()
    {
        var local = new[] { Local(4), Local(3, 2), Local(3), Local(2), Local(1) };

        var pending = BackupUploader.Pending(local, [Remote(local[3])]);

        Assert.Equal([local[2].Name, local[1].Name, local[0].Name], pending.Select(b => b.Name));
    }

    [Fact]
    public void ContainerUpToDate_OrNoLocalBackups_NothingIsCopied()
    {
        var local = new[] { Local(2), Local(1) };

        Assert.Empty(BackupUploader.Pending(local, [Remote(local[0])]));
        Assert.Empty(BackupUploader.Pending([], []));
    }
}
