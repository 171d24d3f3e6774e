using Emergence.Persistence.Backups;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Offsite;

/// <summary>
/// Objects are created, never overwritten. s3rver ignores <c>If-None-Match</c> on writes, so this part is tested
/// against <see cref="StrictObjectStore"/>, an in-memory store that enforces it and refuses any unconditional write.
/// </summary>
public sealed class ConditionalCreateTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<BackupEntry> BackupAsync()
    {
        _h.AddNotes(50);
        await _h.BackupAsync();
        return BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Verified[0];
    }

    [Fact]
    public async Task Upload_WritesEveryObjectConditionally()
    {
        var strict = new StrictObjectStore();
        var backup = await BackupAsync();

        await new OffsiteStore(strict, _h.DatabasePath).UploadAsync(backup, cancellationToken: Token);

        Assert.Equal([(backup.Name, true), (backup.Name + ".json", true)], strict.Writes);
        Assert.Equal(File.ReadAllBytes(backup.Path), strict.Content(backup.Name));
    }

    [Fact]
    public async Task Upload_ObjectAlreadyThereWithOtherContent_IsNotOverwritten_AndTheUploadFailsSayingSo()
    {
        var strict = new StrictObjectStore();
        var backup = await BackupAsync();
        var theirs = "another deployment's backup"u8.ToArray();
        strict.Plant(backup.Name, theirs, new Dictionary<string, string> { [OffsiteStore.ChecksumMetadataKey] = new string('0', 64) });

        var error = await Assert.ThrowsAsync<OffsiteUnavailableException>(() => new OffsiteStore(strict, _h.DatabasePath).UploadAsync(backup, cancellationToken: Token));

        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Contains("not overwritten", error.Message, StringComparison.Ordinal);
        Assert.Equal(theirs, strict.Content(backup.Name));
        Assert.Null(strict.Content(backup.Name + ".json"));
    }

    [Fact]
    public async Task Upload_SameObjectAlreadyThere_FromATryWhoseAnswerWasLost_IsAccepted()
    {
        var strict = new StrictObjectStore();
        var backup = await BackupAsync();
        strict.Plant(backup.Name, File.ReadAllBytes(backup.Path), new Dictionary<string, string> { [OffsiteStore.ChecksumMetadataKey] = backup.Manifest!.Checksum });

        var copy = await new OffsiteStore(strict, _h.DatabasePath).UploadAsync(backup, cancellationToken: Token);

        Assert.Equal(backup.Name, copy.Name);
        Assert.Equal(File.ReadAllBytes(backup.ManifestPath), strict.Content(backup.Name + ".json"));
        var listed = await new OffsiteStore(strict, _h.DatabasePath).ListAsync(Token);
        Assert.True(Assert.Single(listed).IsComplete);
    }
}
