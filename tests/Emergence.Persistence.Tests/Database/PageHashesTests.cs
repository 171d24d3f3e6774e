using Emergence.Persistence.Database;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Database;

/// <summary>
/// The content checksum of a file, read by one thread or by several at once: the same checksum and page hashes as
/// hashing each page in order, and the same errors.
/// </summary>
public sealed class PageHashesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("page-hashes-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void AFileReadByManyThreads_HasTheChecksumOfItsPagesHashedInOrder()
    {
        // 3.3 MiB of 4 KiB pages, written by the sqlite3 shell: parts of 1 MiB, the last one short.
        var path = Path.Combine(_directory, "db.sqlite");
        var (exit, _, error) = Shell.Run("sqlite3", path,
            "PRAGMA page_size = 4096; CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB); WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 850) INSERT INTO t SELECT n, randomblob(3500) FROM r;");
        Assert.True(exit == 0, error);
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length % (1 << 20) != 0 && bytes.Length > 3 << 20, $"{bytes.Length} bytes");

        var inOrder = PageHashes.Empty();
        for (var page = 0; page < bytes.Length / 4096; page++)
        {
            inOrder.Set((uint)page + 1, bytes.AsSpan(page * 4096, 4096));
        }

        foreach (var workers in new[] { 1, 2, 3, 8 })
        {
            var hashes = PageHashes.OfFile(path, workers, TestContext.Current.CancellationToken);
            Assert.Equal((inOrder.Checksum, inOrder.Pages), (hashes.Checksum, hashes.Pages));
            Assert.Equal(PageHashes.OfFile(path, TestContext.Current.CancellationToken).Checksum, hashes.Checksum);
        }
    }

    [Fact]
    public void AFileThatIsNotWholePages_IsRefusedWithTheSameError_ByAnyNumberOfThreads()
    {
        var path = Path.Combine(_directory, "db.sqlite");
        var (exit, _, error) = Shell.Run("sqlite3", path, "PRAGMA page_size = 4096; CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB); INSERT INTO t VALUES (1, randomblob(9000));");
        Assert.True(exit == 0, error);
        using (var file = File.OpenWrite(path))
        {
            file.SetLength(file.Length + 100);
        }

        foreach (var workers in new[] { 1, 2 })
        {
            var refused = Assert.Throws<IOException>(() => PageHashes.OfFile(path, workers, TestContext.Current.CancellationToken));
            Assert.Contains("not a whole number", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AFileCutShortWhileManyThreadsReadIt_IsRefusedWithAnIOException()
    {
        // Parts read at once may all find the file cut short at once: the error is still the one a single reader gives.
        var path = Path.Combine(_directory, "db.sqlite");
        var (exit, _, error) = Shell.Run("sqlite3", path, "PRAGMA page_size = 4096; CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB); INSERT INTO t VALUES (1, randomblob(100));");
        Assert.True(exit == 0, error);
        var header = File.ReadAllBytes(path)[..4096];
        for (var run = 0; run < 20; run++)
        {
            using (var file = File.Create(path))
            {
                file.Write(header);
                file.SetLength(64L << 20);
            }

            using var cut = Task.Run(
                () =>
                {
                    using var file = File.OpenWrite(path);
                    file.SetLength(4096);
                }, TestContext.Current.CancellationToken);
            try
            {
                PageHashes.OfFile(path, 4, TestContext.Current.CancellationToken);
            }
            catch (IOException)
            {
                // Refused as any reader refuses it; anything else fails the test.
            }

            await cut;
        }
    }
}
