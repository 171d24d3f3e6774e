using System.Text.Json;
using System.Text.Json.Nodes;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests.Backups;

public sealed class BackupVerifierTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private BackupEntry Entry(string name) => BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Backups.Single(b => b.Name == name);

    [Fact]
    public async Task Verify_IntactBackup_PassesAndLeavesNoSideFiles()
    {
        _h.AddNotes(100);
        var manifest = await _h.BackupAsync();
        var before = Directory.GetFiles(_h.BackupDirectory).Order().ToArray();

        var quick = _h.Get<BackupVerifier>().Verify(Entry(manifest.Filename), IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken);
        var full = _h.Get<BackupVerifier>().Verify(Entry(manifest.Filename), IntegrityCheck.Full, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(quick.Ok, quick.Problem);
        Assert.True(full.Ok, full.Problem);
        Assert.Equal("integrity_check", full.Check);
        Assert.Equal(before, Directory.GetFiles(_h.BackupDirectory).Order().ToArray());
    }

    [Fact]
    public async Task VerifyCopy_SaysTheCopyWasReadBack_OnlyWhenItsEveryByteWasAndMatched()
    {
        // A restore's proof leans on it: a copy read back whole for the SHA-256 holds its backup's recorded content.
        _h.AddNotes(100);
        var manifest = await _h.BackupAsync();
        var staging = Path.Combine(_h.BackupDirectory, "staging.sqlite");

        var copied = _h.Get<BackupVerifier>().VerifyCopy(Entry(manifest.Filename), staging, IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken);
        File.Delete(staging);
        var inPlace = _h.Get<BackupVerifier>().Verify(Entry(manifest.Filename), IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken);
        FlipByte(manifest.BackupPath, manifest.Size / 2);
        var damaged = _h.Get<BackupVerifier>().VerifyCopy(Entry(manifest.Filename), staging, IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(copied.Ok && copied.CopyReadBack, copied.Problem);
        Assert.True(inPlace.Ok && !inPlace.CopyReadBack, inPlace.Problem);
        Assert.False(damaged.Ok || damaged.CopyReadBack);
    }

    [Fact]
    public async Task Verify_OneCorruptedByte_FailsOnChecksumAndLogsAWarning()
    {
        _h.AddNotes(100);
        var manifest = await _h.BackupAsync();
        FlipByte(manifest.BackupPath, 5000);

        var result = _h.Get<BackupVerifier>().Verify(Entry(manifest.Filename), IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(result.Ok);
        Assert.False(result.ChecksumMatches);
        Assert.Contains("SHA-256", result.Problem, StringComparison.Ordinal);
        var logged = Assert.Single(_h.Logs.GetSnapshot(), r => r.Id.Name == "BackupVerificationFailed");
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Equal(manifest.Filename, logged.GetStructuredStateValue("BackupName"));
    }

    [Fact]
    public async Task Verify_ManifestChecksumEdited_Fails()
    {
        _h.AddNotes(10);
        var manifest = await _h.BackupAsync();
        EditManifest(manifest, m => m["checksum"] = new string('0', 64));

        var result = _h.Get<BackupVerifier>().Verify(Entry(manifest.Filename), IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(result.Ok);
        Assert.Contains("manifest says 0000", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ManifestMalformedOrNamingAnotherFile_FailsWithoutReadingIt()
    {
        _h.AddNotes(10);
        var first = await _h.BackupAsync();
        var second = await _h.BackupAsync();
        File.WriteAllText(first.BackupPath + ".json", "{ not json");
        EditManifest(second, m => m["filename"] = "../../../etc/passwd");

        var malformed = _h.Get<BackupVerifier>().Verify(Entry(first.Filename), IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken);
        var elsewhere = _h.Get<BackupVerifier>().Verify(Entry(second.Filename), IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains("manifest is not valid", malformed.Problem, StringComparison.Ordinal);
        Assert.Contains("names a different file", elsewhere.Problem, StringComparison.Ordinal);
        Assert.Empty(BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Verified);
    }

    [Fact]
    public async Task Verify_ManifestWithWrongTypes_IsNotAVerifiedBackup()
    {
        _h.AddNotes(10);
        var manifest = await _h.BackupAsync();
        EditManifest(manifest, m => m["size"] = "large");

        var entry = Entry(manifest.Filename);

        Assert.False(entry.HasManifest);
        Assert.Contains("manifest is not valid", entry.ManifestError, StringComparison.Ordinal);
    }

    internal static void FlipByte(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ 0xFF));
    }

    internal static void EditManifest(BackupManifest manifest, Action<JsonObject> edit)
    {
        var path = manifest.BackupPath + ".json";
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
