using Emergence.Persistence.Backups;
using Emergence.Persistence.Health;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests;

/// <summary>Real faults on real mounts: a tmpfs that fills, a volume remounted read-only. Root only.</summary>
public sealed class FaultTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("emergence-fault-").FullName;

    public void Dispose()
    {
        Shell.Run("umount", "-l", Path.Combine(_root, "data"));
        Directory.Delete(_root, recursive: true);
    }

    private static Dictionary<string, string?> OnVolume(string root) => new()
    {
        ["Persistence:DatabasePath"] = Path.Combine(root, "data", "database.sqlite"),
        ["Persistence:RequireVolume"] = "true",
    };

    [Fact]
    public async Task Backup_DiskFillsDuringTheCopy_FailsAboutSpaceAndLeavesNoTempAndOlderBackupsIntact()
    {
        Privileges.RequireRoot("mount a small tmpfs that fills");
        using var volume = new TmpfsMount(Path.Combine(_root, "data"), "400m");
        using var h = new TestHarness(OnVolume(_root), root: _root);
        h.AddNotes(1000);
        var older = await h.BackupAsync();
        h.AddNotes(80_000, new string('x', 1000));
        // Leave just what the pre-flight check asks for, so the backup starts...
        var needed = BackupSpace.Required(BackupSpace.DatabaseBytes(h.DatabasePath));
        File.WriteAllBytes(Path.Combine(volume.Path, "ballast"), new byte[new DriveInfo(volume.Path).AvailableFreeSpace - needed - (1 << 20)]);
        var filler = Path.Combine(volume.Path, "filler");
        // ...then another writer fills the volume the moment the copy begins.
        var fillWhenCopyStarts = new FillOnPhase("copy", filler);

        var failure = await Assert.ThrowsAsync<BackupFailedException>(() => h.Get<BackupService>().CreateAsync(
            h.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(5), fillWhenCopyStarts, TestContext.Current.CancellationToken));

        Assert.Equal("copy", failure.Step);
        Assert.True(failure.Message.Contains("the disk is full", StringComparison.Ordinal), failure.Message);
        Assert.Empty(Directory.GetFiles(h.BackupDirectory, "*.tmp*"));
        Assert.Equal(older.Checksum, Sqlite3.Sha256Sum(older.BackupPath));
        var logged = Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Name == "BackupFailed");
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Equal("copy", logged.GetStructuredStateValue("Step"));
        Assert.Contains("disk is full", logged.GetStructuredStateValue("Cause"), StringComparison.Ordinal);

        // The independent reader needs room for its -shm, so it looks once space is free again.
        File.Delete(filler);
        File.Delete(Path.Combine(volume.Path, "ballast"));
        Assert.Equal("ok", Sqlite3.Query(h.DatabasePath, "PRAGMA integrity_check;"));
        var next = await h.BackupAsync();
        Assert.Equal("81000", Sqlite3.Query(next.BackupPath, "SELECT count(*) FROM notes;"));
    }

    /// <summary>Fills the volume, once, when a backup reports the given phase: after its pre-flight check passed.</summary>
    private sealed class FillOnPhase(string phase, string filler) : IProgress<OperationProgress>
    {
        private bool _filled;

        public void Report(OperationProgress value)
        {
            if (_filled || value.Phase != phase)
            {
                return;
            }

            _filled = true;
            var chunk = new byte[1 << 20];
            try
            {
                using var stream = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
                while (true)
                {
                    stream.Write(chunk);
                }
            }
            catch (IOException)
            {
                // The volume is full: that is the point. The backup, not this writer, must report it.
            }
        }
    }

    [Fact]
    public async Task Backup_DatabasePlainlyTooBigForTheDisk_IsRefusedBeforeWriting()
    {
        Privileges.RequireRoot("mount a small tmpfs");
        using var volume = new TmpfsMount(Path.Combine(_root, "data"), "8m");
        using var h = new TestHarness(OnVolume(_root), root: _root);
        h.AddNotes(3000, new string('y', 1000));
        File.WriteAllBytes(Path.Combine(volume.Path, "filler"), new byte[new DriveInfo(volume.Path).AvailableFreeSpace - (512 << 10)]);

        var failure = await Assert.ThrowsAsync<BackupFailedException>(() =>
            h.Get<BackupService>().CreateAsync(h.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("preflight", failure.Step);
        Assert.Contains("not enough free space", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetFiles(h.BackupDirectory), f => !Path.GetFileName(f).StartsWith('.'));
    }

    [Fact]
    public async Task ReadOnlyRequiredVolume_StartupCreatesNothingElsewhere_HealthDescribesTheVolume_AndRecoversAfterRemount()
    {
        Privileges.RequireRoot("remount a volume read-only");
        using var volume = new TmpfsMount(Path.Combine(_root, "data"), "16m");
        var settings = OnVolume(_root);
        settings["Persistence:FallbackDirectory"] = Path.Combine(_root, "fallback");
        using (var first = new TestHarness(settings, root: _root))
        {
            var started = await first.Get<StartupSequence>().RunAsync(TestContext.Current.CancellationToken);
            started.Lock?.Dispose();
            first.AddNotes(5);
        }

        volume.Remount("ro");
        using var h = new TestHarness(settings, root: _root);
        var result = await h.Get<StartupSequence>().RunAsync(TestContext.Current.CancellationToken);
        var report = h.Get<HealthReporter>().Check(result.Location, result.FailureSentence);

        // A required volume that cannot take data gets no stand-in: no fallback database, no backups elsewhere.
        Assert.Equal("volume", result.FailedStep);
        Assert.Null(result.Lock);
        Assert.False(result.Location.IsFallback);
        Assert.False(Directory.Exists(Path.Combine(_root, "fallback")));
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal(volume.Path, report.Volume.Path);
        Assert.True(report.Volume.ReadOnly);
        Assert.False(report.Volume.Writable);
        Assert.Contains(report.Problems, p => p.Contains("(the file system is mounted read-only)", StringComparison.Ordinal));
        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Id.Name == "FallbackInUse");
        var problem = h.Logs.GetSnapshot().First(r => r.Id.Name == "VolumeProblem" && (string?)r.GetStructuredStateValue("Path") == volume.Path);
        Assert.Equal(LogLevel.Error, problem.Level);
        Assert.Contains("Read-only", problem.GetStructuredStateValue("OsError"), StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(problem.GetStructuredStateValue("Mode"));

        volume.Remount("rw");
        h.Time.Advance(TimeSpan.FromMinutes(1));
        var again = await h.Get<StartupSequence>().RunAsync(TestContext.Current.CancellationToken);
        using (again.Lock)
        {
            Assert.True(again.Succeeded, again.Failure);
            Assert.Equal(HealthStatus.Healthy, h.Get<HealthReporter>().Check(again.Location).Status);
        }

        Assert.Equal("5", Sqlite3.Query(Path.Combine(volume.Path, "database.sqlite"), "SELECT count(*) FROM notes;"));
    }
}
