using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// A replicator killed several times in a row: each start takes a snapshot and begins a generation of its own, a few
/// seconds long, whose only base is that snapshot. Rotation (the newest five distinct contents, one a day, one a week)
/// would delete the oldest snapshots; the restore window holds their generations' points, so they stay.
/// </summary>
public sealed class RestartedGenerationsTests : ReplicationTest
{
    /// <summary>Seven short generations, one after another; the commit each generation's last segment ends at, and the rows then.</summary>
    private async Task<List<(DateTimeOffset At, int Rows)>> RestartSevenTimesAsync()
    {
        var ends = new List<(DateTimeOffset At, int Rows)>();
        var rows = 0;
        for (var g = 0; g < 7; g++)
        {
            Commit(3, g); // while no replicator runs: the next start cannot continue the last generation
            rows += 3;
            H.Time.Advance(TimeSpan.FromSeconds(1));
            using var session = await OpenAsync();
            Commit(4, g);
            rows += 4;
            H.Time.Advance(TimeSpan.FromSeconds(1));
            ends.Add((session.Poll().Segment!.LastCommitAt, rows));
        }

        return ends;
    }

    [Fact]
    public async Task ManyRestartsInARow_RotationKeepsEachShortGenerationsOnlyBase_TheAuditProvesAll_AndTheOldestPointRestores()
    {
        var ends = await RestartSevenTimesAsync();

        var location = H.Locate();
        var store = new ReplicationStore(H.BackupDirectory);
        var generations = store.Generations(H.DatabasePath);
        var audits = H.Get<HistoryAudit>().Run(location, TestContext.Current.CancellationToken);
        ReplicationRetention.Prune(location, H.Time.GetUtcNow(), generations[^1].Id, H.Options.Replication, NullLogger.Instance);
        var afterPruning = store.Generations(H.DatabasePath);
        var restored = RestoreTo(ends[0].At);

        Assert.Equal(7, generations.Count);
        Assert.All(audits, a => Assert.True(a.Ok, $"{a.Generation}: {a.Problem}"));
        Assert.Equal(generations.Select(g => g.Id), afterPruning.Select(g => g.Id));
        Assert.Contains(H.Logs.GetSnapshot(), r => r.Id.Name == "BackupHeldForWindow");
        Assert.Equal(generations[0].BaseBackup, restored.Backup.Filename);
        Assert.Equal((ends[0].Rows, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task OnceTheSpaceBudgetDeletedTheOldestGenerations_TheNextBackupLetsTheirBasesGo_BeforeItsCopy()
    {
        await RestartSevenTimesAsync();
        var store = new ReplicationStore(H.BackupDirectory);
        var generations = store.Generations(H.DatabasePath);
        var released = generations.Take(2).Select(g => g.BaseBackup).ToList();
        foreach (var generation in generations.Take(2))
        {
            Directory.Delete(store.DirectoryOf(generation.Id), recursive: true); // as the space budget deletes them
        }

        H.Logs.Clear();

        await H.BackupAsync();

        var events = H.Logs.GetSnapshot().Select(r => r.Id.Name).ToList();
        var rotated = H.Logs.GetSnapshot().First(r => r.Id.Name == "BackupRotated");
        Assert.True(events.IndexOf("BackupRotated") < events.IndexOf("BackupCompleted"), string.Join(", ", events));
        Assert.All(released, name => Assert.Contains(name, rotated.Message, StringComparison.Ordinal));
        Assert.All(released, name => Assert.False(File.Exists(Path.Combine(H.BackupDirectory, name)), name));
        Assert.All(generations.Skip(2), g => Assert.True(File.Exists(Path.Combine(H.BackupDirectory, g.BaseBackup)), g.BaseBackup));
    }

    [Fact]
    public async Task GenerationsPastTheWindow_WhoseBasesRotationLetGo_AuditAsPastNotFailed_UntilThePruneDeletesThem()
    {
        await RestartSevenTimesAsync();
        var store = new ReplicationStore(H.BackupDirectory);
        var generations = store.Generations(H.DatabasePath);
        H.Time.Advance(H.Options.Replication.RestoreWindow + TimeSpan.FromHours(1));

        await H.BackupAsync(); // its rotation keeps only the tiers and the newest generation's base
        var location = H.Locate();
        var audits = H.Get<HistoryAudit>().Run(location, TestContext.Current.CancellationToken);
        ReplicationRetention.Prune(location, H.Time.GetUtcNow(), generations[^1].Id, H.Options.Replication, NullLogger.Instance);
        var afterPruning = store.Generations(H.DatabasePath);

        var gone = generations.Where(g => !File.Exists(Path.Combine(H.BackupDirectory, g.BaseBackup))).Select(g => g.Id).ToList();
        Assert.NotEmpty(gone);
        Assert.All(audits.Where(a => gone.Contains(a.Generation)), a => Assert.True(a is { PastTheWindow: true, Ok: true, Problem: not null }, $"{a}"));
        Assert.All(audits, a => Assert.True(a.Ok, $"{a.Generation}: {a.Problem}"));
        Assert.Equal(generations.Take(6).Select(g => g.Id), audits.Where(a => a.PastTheWindow).Select(a => a.Generation));
        Assert.Equal([generations[^1].Id], afterPruning.Select(g => g.Id));
    }
}
