using Emergence.Persistence.Records;

namespace Emergence.Persistence.Tests.Records;

/// <summary>
/// The restore request files as operators and scripts write and read them (<c>.restore-request</c> and
/// <c>.restore-request.failed</c> beside the database): the exact text, and how a file that is missing, empty or not
/// valid reads.
/// </summary>
public sealed class RestoreRequestFileTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 14, 10, 30, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("emergence-request-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Text(string name) => File.ReadAllText(Path.Combine(_directory, name)).ReplaceLineEndings("\n");

    [Fact]
    public void Request_IsWrittenExactlyAsTheContractSays_AndReadsBack()
    {
        RestoreRequests.Write(_directory, new RestoreRequest { Backup = "database_backup_20250114_103000.sqlite", RequestedAt = T0, Latest = true });
        RestoreRequests.WriteFailed(_directory, RestoreRequests.Read(_directory)! with { Error = "it failed" });

        Assert.Equal("{\n  \"backup\": \"database_backup_20250114_103000.sqlite\",\n  \"requested_at\": \"2025-01-14T10:30:00Z\",\n  \"latest\": true,\n  \"error\": null\n}", Text(RestoreRequest.FileName));
        Assert.Equal("{\n  \"backup\": \"database_backup_20250114_103000.sqlite\",\n  \"requested_at\": \"2025-01-14T10:30:00Z\",\n  \"latest\": true,\n  \"error\": \"it failed\"\n}", Text(RestoreRequest.FailedFileName));
        var failed = RestoreRequests.ReadFailed(_directory)!;
        Assert.Equal(("database_backup_20250114_103000.sqlite", T0, true, "it failed"), (failed.Backup, failed.RequestedAt, failed.Latest, failed.Error));
    }

    [Fact]
    public void Request_AsAnOperatorWritesIt_WithoutLatest_IsForTheBackupNamed()
    {
        File.WriteAllText(RestoreRequest.PathFor(_directory), """{"backup": "database_backup_20250114_103000.sqlite", "requested_at": "2025-01-14T10:30:00Z"}""");

        var request = RestoreRequests.Read(_directory)!;

        Assert.Equal(("database_backup_20250114_103000.sqlite", T0, false, (string?)null), (request.Backup, request.RequestedAt, request.Latest, request.Error));
    }

    [Fact]
    public void Request_Missing_ReadsAsNone()
    {
        Assert.Null(RestoreRequests.Read(_directory));
        Assert.Null(RestoreRequests.Read(Path.Combine(_directory, "gone")));
    }

    [Theory]
    [InlineData("", "the request file {0} is not valid: ")]
    [InlineData("null", "the request file {0} is not valid: the file is empty")]
    [InlineData("{\"backup\": 3}", "the request file {0} is not valid: ")]
    [InlineData("{\"requested_at\": \"2025-01-14T10:30:00Z\"}", "the request file {0} is not valid: ")]
    public void Request_NotValid_ReadsAsARequestWhoseErrorSaysSo(string text, string expected)
    {
        var path = RestoreRequest.PathFor(_directory);
        File.WriteAllText(path, text);

        var request = RestoreRequests.Read(_directory)!;

        Assert.StartsWith(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, path), request.Error, StringComparison.Ordinal);
        Assert.Equal(("", DateTimeOffset.MinValue, false), (request.Backup, request.RequestedAt, request.Latest));
    }
}
