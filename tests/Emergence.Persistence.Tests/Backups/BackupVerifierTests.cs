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
    public async Task VerifyCopy_MeasuresTheCopysContentChecksum_WhenAsked_FromTheCopy()
    {
        // A restore's proof starts from it: measured from the copy's own pages, not taken from the manifest.
        _h.AddNotes(100);
        var manifest = await _h.BackupAsync();
        var staging = Path.Combine(_h.BackupDirectory, "staging.sqlite");
        var verifier = _h.Get<BackupVerifier>();
        var token = TestContext.Current.CancellationToken;

        var measured = verifier.VerifyCopy(Entry(manifest.Filename), staging, IntegrityCheck.Quick, measureContent: true, cancellationToken: token);
        var copyHolds = PageHashes.OfFile(staging, token).Checksum;
        File.Delete(staging);
        var notAsked = verifier.VerifyCopy(Entry(manifest.Filename), staging, IntegrityCheck.Quick, cancellationToken: token);
        File.Delete(staging);

        // A manifest whose content_hash is not its file's content: the measure is the file's, not the manifest's.
        EditManifest(manifest, json => json["content_hash"] = PageHashes.Format(copyHolds ^ 1));
        var notTheManifests = verifier.VerifyCopy(Entry(manifest.Filename), staging, IntegrityCheck.Quick, measureContent: true, cancellationToken: token);
        File.Delete(staging);
        FlipByte(manifest.BackupPath, manifest.Size / 2);
        var damaged = verifier.VerifyCopy(Entry(manifest.Filename), staging, IntegrityCheck.Quick, measureContent: true, cancellationToken: token);

        Assert.True(measured.Ok, measured.Problem);
        Assert.Equal(PageHashes.Format(copyHolds), PageHashes.Format(measured.CopyContentHash!.Value));
        Assert.Equal(manifest.ContentHash, PageHashes.Format(copyHolds));
        Assert.True(notAsked.Ok && notAsked.CopyContentHash is null, notAsked.Problem);
        Assert.True(notTheManifests.Ok, notTheManifests.Problem);
        Assert.Equal(copyHolds, notTheManifests.CopyContentHash);
        Assert.False(damaged.Ok);
        Assert.Null(damaged.CopyContentHash);
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
