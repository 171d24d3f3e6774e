using System.Diagnostics;
using Emergence.Functions.Backups;
using Emergence.Functions.Functions;
using Emergence.Functions.Health;
using Emergence.Functions.Tests.Support;
using Emergence.Persistence.Health;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Tests.Support;
using Microsoft.Azure.Functions.Worker;

namespace Emergence.Functions.Tests.Functions;

public sealed class OffsiteFunctionsTests : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private AppHarness App(Azurite? azurite)
    {
        var app = new AppHarness(azurite is null ? null : new()
        {
            ["Persistence:Offsite:ConnectionString"] = azurite.ConnectionString,
            ["Persistence:Offsite:Container"] = "app-backups",
        });
        _owned.Add(app);
        return app;
    }

    private static async Task WaitForRunsAsync(BackupUploadService uploader, int runs)
    {
        var waited = Stopwatch.StartNew();
        while (uploader.CompletedRuns < runs)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"only {uploader.CompletedRuns} of {runs} upload runs finished in 60 s");
            await Task.Delay(50, Token);
        }
    }

    [Fact]
    public async Task Uploader_CopiesAfterStartupAndAfterEachScheduledBackup_AndTheDrillIsReportedByHealth()
    {
        var azurite = Azurite.Start();
        _owned.Add(azurite);
        var app = App(azurite);
        await app.StartAsync();
        var uploader = app.Get<BackupUploadService>();
        await uploader.StartAsync(Token);
        try
        {
            await WaitForRunsAsync(uploader, 1);
            Assert.Equal(["database_backup_20250114_103000.sqlite"], uploader.LastResult!.Uploaded.Select(u => u.Name));

            app.Time.Advance(TimeSpan.FromHours(1));
            await app.Create<ScheduledBackupFunction>().Run(new TimerInfo(), Token);
            await WaitForRunsAsync(uploader, 2);
            Assert.Equal(["database_backup_20250114_113000.sqlite"], uploader.LastResult!.Uploaded.Select(u => u.Name));

            await app.Create<RestoreDrillFunction>().Run(new TimerInfo(), Token);
            var report = await app.Get<HealthCache>().GetAsync(Token);

            Assert.Equal(HealthStatus.Healthy, report.Status);
            Assert.Equal(2, report.Backups.Offsite!.Count);
            Assert.Equal("database_backup_20250114_113000.sqlite", report.Backups.Offsite.LastUpload);
            Assert.True(report.Backups.Offsite.Drill!.Ok);
            Assert.Contains(app.Logs.GetSnapshot(), r => r.Id.Name == "RestoreDrillPassed");
        }
        finally
        {
            await uploader.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Drill_OffsiteNotConfigured_IsSkippedWithAReason_AndHealthHasNoOffsiteObject()
    {
        var app = App(null);
        await app.StartAsync();

        await app.Create<RestoreDrillFunction>().Run(new TimerInfo(), Token);

        var skipped = Assert.Single(app.Logs.GetSnapshot(), r => r.Id.Name == "RestoreDrillSkipped");
        Assert.Contains("not configured", skipped.Message, StringComparison.Ordinal);
        Assert.Null((await app.Get<HealthCache>().GetAsync(Token)).Backups.Offsite);
        Assert.False(app.Get<OffsiteConnector>().Enabled);
    }
}
