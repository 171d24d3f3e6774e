using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// The account a staged copy keeps of what a replay changes: the checksum it gives from the copy's own and the pages
/// it reads back is the checksum of the whole file read afresh, whatever the writes and lengths were.
/// </summary>
public sealed class StagedFileTests : IDisposable
{
    private const int PageSize = 4096;

    private readonly string _directory = Directory.CreateTempSubdirectory("staged-file-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void AnyWritesAndLengths_GiveTheChecksumOfTheWholeFileReadAgain(int seed)
    {
        var path = Database(pages: 300);
        var copy = PageHashes.OfFile(path, TestContext.Current.CancellationToken).Checksum;
        var random = new Random(seed);
        using (var file = new StagedFile(path))
        {
            Assert.True(file.Accounted);
            for (var step = 0; step < 200; step++)
            {
                var pages = file.Length / PageSize;
                switch (random.Next(10))
                {
                    case 0:
                        // Cut short (pages of the copy leave), or grown (zeros past the end), or grown again over pages cut before.
                        file.SetLength((long)random.Next(1, 400) * PageSize);
                        break;
                    case 1:
                        // Part of a page: a byte of page 1's header past its page size (as the replay's last step rewrites
                        // two), or bytes of any other page.
                        if (pages < 2 || random.Next(4) == 0)
                        {
                            file.Write(18 + random.Next(80), [(byte)random.Next(256)]);
                        }
                        else
                        {
                            var bytes = new byte[random.Next(1, 300)];
                            random.NextBytes(bytes);
                            file.Write((random.NextInt64(1, pages) * PageSize) + random.Next(PageSize - bytes.Length), bytes);
                        }

                        break;
                    default:
                        // Whole pages after the first: inside the file, or past its end.
                        var page = new byte[PageSize];
                        random.NextBytes(page);
                        file.Write(random.NextInt64(1, pages + 20) * PageSize, page);
                        break;
                }
            }

            file.SetLength((file.Length + PageSize - 1) / PageSize * PageSize);
            file.Flush();
            Assert.Equal(
                PageHashes.Format(PageHashes.OfFile(file.Handle, path, TestContext.Current.CancellationToken).Checksum),
                PageHashes.Format(file.ChecksumNow(copy, TestContext.Current.CancellationToken)));
        }

        Assert.Equal(PageHashes.OfFile(path, TestContext.Current.CancellationToken).Checksum, WholeFile(path));
    }

    [Fact]
    public void APageWrittenWhereItWasNotMeant_IsReadBack_AndTheChecksumIsNotTheOneMeant()
    {
        // The replay meant page 10; a write one page off lands on page 11. The account is kept of where bytes went,
        // so the checksum is the file's as it is, not the one page 10's new content would give.
        var path = Database(pages: 40);
        var copy = PageHashes.OfFile(path, TestContext.Current.CancellationToken).Checksum;
        var page = new byte[PageSize];
        new Random(7).NextBytes(page);
        var meant = PageHashes.OfFile(path, TestContext.Current.CancellationToken);
        meant.Set(10, page);

        using var file = new StagedFile(path);
        file.Write(10L * PageSize, page);
        var now = file.ChecksumNow(copy, TestContext.Current.CancellationToken);
        Assert.NotEqual(meant.Checksum, now);
        Assert.Equal(PageHashes.OfFile(file.Handle, path, TestContext.Current.CancellationToken).Checksum, now);
        Assert.Equal(1, file.ChangedPages);
    }

    [Fact]
    public void ACopyThatIsNotWholePagesOfItsHeadersSize_KeepsNoAccount()
    {
        var path = Database(pages: 5);
        using (var stream = File.OpenWrite(path))
        {
            stream.SetLength(stream.Length + 100);
        }

        using (var file = new StagedFile(path))
        {
            Assert.False(file.Accounted);
            Assert.Throws<InvalidOperationException>(() => file.ChecksumNow(0, TestContext.Current.CancellationToken));
        }

        var notADatabase = Path.Combine(_directory, "text");
        File.WriteAllText(notADatabase, new string('x', 8192));
        using var other = new StagedFile(notADatabase);
        Assert.False(other.Accounted);
    }

    [Fact]
    public void AResultThatIsNotWholePages_IsRefused()
    {
        var path = Database(pages: 5);
        var copy = PageHashes.OfFile(path, TestContext.Current.CancellationToken).Checksum;
        using var file = new StagedFile(path);
        file.SetLength(file.Length - 10);
        var refused = Assert.Throws<IOException>(() => file.ChecksumNow(copy, TestContext.Current.CancellationToken));
        Assert.Contains("not a whole number", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>A database of about <paramref name="pages"/> 4 KiB pages of random rows, written by the sqlite3 shell.</summary>
    private string Database(int pages)
    {
        var path = Path.Combine(_directory, $"db-{Guid.NewGuid():n}.sqlite");
        var (exit, _, error) = Shell.Run("sqlite3", path,
            $"PRAGMA page_size = {PageSize}; CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB); WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {pages}) INSERT INTO t SELECT n, randomblob(3500) FROM r;");
        Assert.True(exit == 0, error);
        return path;
    }

    /// <summary>The checksum of the file's pages hashed one by one in order, as the definition gives it.</summary>
    private static ulong WholeFile(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var sum = 0UL;
        for (var page = 0; page < bytes.Length / PageSize; page++)
        {
            sum ^= PageHashes.Hash((uint)page + 1, bytes.AsSpan(page * PageSize, PageSize));
        }

        return sum;
    }
}
