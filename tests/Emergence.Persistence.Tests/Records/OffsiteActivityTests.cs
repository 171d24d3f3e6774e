using Emergence.Persistence.Records;

namespace Emergence.Persistence.Tests.Records;

public sealed class OffsiteActivityTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 14, 10, 30, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("emergence-offsite-state-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void AnotherProcessesLaterSuccess_ClearsThisProcesssEarlierError()
    {
        var app = new OffsiteActivity();
        var cli = new OffsiteActivity();
        app.RecordFailure(_directory, null, T0, "storage down");

        cli.RecordSuccess(_directory, new OffsiteActivity.UploadRecord("database_backup_20250114_103100.sqlite", T0.AddMinutes(1), T0.AddMinutes(2)), 3, T0.AddMinutes(2));

        var state = app.StateFor(_directory)!;
        Assert.Null(state.LastError);
        Assert.Equal(3, state.Count);
        Assert.Equal("database_backup_20250114_103100.sqlite", state.LastUpload!.Name);
    }

    [Fact]
    public void AFailureKeepsTheLastSuccessfulUploadAndCount()
    {
        var activity = new OffsiteActivity();
        activity.RecordSuccess(_directory, new OffsiteActivity.UploadRecord("database_backup_20250114_103000.sqlite", T0, T0), 2, T0);

        activity.RecordFailure(_directory, null, T0.AddHours(1), "storage down");

        var state = new OffsiteActivity().StateFor(_directory)!;
        Assert.Equal("storage down", state.LastError!.Message);
        Assert.Equal(2, state.Count);
        Assert.Equal("database_backup_20250114_103000.sqlite", state.LastUpload!.Name);
    }

    [Fact]
    public void TheLaterDrillResultCounts()
    {
        var app = new OffsiteActivity();
        app.RecordDrill(_directory, new DrillResult(T0, false, "a", T0, "bad checksum", 10));

        new OffsiteActivity().RecordDrill(_directory, new DrillResult(T0.AddDays(1), true, "b", T0.AddDays(1), null, 10));

        Assert.True(app.DrillFor(_directory)!.Ok);
    }
}
