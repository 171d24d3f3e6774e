using Emergence.Persistence.Backups;
using Emergence.Persistence.Health;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Hostile;

/// <summary>Backups are ordered by what cannot lie; one stamped in the future is reported and never preferred.</summary>
public sealed class ClockSkewTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    /// <summary>Another container on the same volume whose clock is <paramref name="skew"/> off.</summary>
    private TestHarness Skewed(TimeSpan skew)
    {
        var other = new TestHarness(new Dictionary<string, string?> { ["Persistence:DatabasePath"] = _h.DatabasePath }, root: _h.Root);
        other.Time.SetUtcNow(_h.Time.GetUtcNow() + skew);
        return other;
    }

    [Fact]
    public async Task BackupsFromASkewedClock_AreRotatedFirstAndNeverRestoredAsLatest()
    {
        _h.AddNotes(10);
        using (var skewed = Skewed(TimeSpan.FromDays(365)))
        {
            await skewed.BackupAsync(TimeSpan.Zero);
        }

        var names = new List<string>();
        for (var i = 0; i < _h.Options.KeepBackups; i++)
        {
            _h.AddNotes(1, $"after {i}");
            names.Add((await _h.BackupAsync(TimeSpan.FromHours(1))).Filename);
        }

        var inventory = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow());
        Assert.Equal(Enumerable.Reverse(names), inventory.Verified.Select(b => b.Name));

        var restored = _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().Restore(location, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(names[^1], restored.Backup.Filename);
    }

    [Fact]
    public async Task Health_BackupStampedInTheFuture_IsDegradedAndNotTheLatest()
    {
        _h.AddNotes(10);
        var real = await _h.BackupAsync();
        using (var skewed = Skewed(TimeSpan.FromDays(30)))
        {
            _h.AddNotes(1);
            await skewed.BackupAsync(TimeSpan.Zero);
        }

        var report = _h.Get<HealthReporter>().Check(_h.Locate());

        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Equal(real.Filename, report.Backups.Latest!.Filename);
        Assert.True(report.Backups.LatestAgeSeconds >= 0);
        Assert.Contains(report.Problems, p => p.Contains("in the future", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sequence_OrdersBackupsWhenTheClockStepsBack()
    {
        _h.AddNotes(10);
        var first = await _h.BackupAsync(TimeSpan.FromHours(2));
        _h.AddNotes(1, "later");
        BackupManifest second;
        using (var behind = Skewed(-TimeSpan.FromHours(1)))
        {
            second = await behind.BackupAsync(TimeSpan.Zero);
        }

        var inventory = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow());

        Assert.Equal(second.Filename, inventory.Verified[0].Name);
        Assert.Equal(first.Sequence + 1, second.Sequence);
    }
}
