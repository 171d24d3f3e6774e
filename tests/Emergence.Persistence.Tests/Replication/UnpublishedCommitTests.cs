using System.Globalization;
using Emergence.Persistence.Database;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// A writer killed after writing a transaction's commit frame to the log and before publishing it in the wal-index
/// leaves a whole transaction in the <c>-wal</c>, with valid checksums, that SQLite does not count as committed: no
/// reader sees it, and the next writer writes over it. The tests make that state for real, from another process, by
/// putting back the wal-index header as it was before the commit (what a writer killed between the two writes leaves),
/// then check that the history holds the database's real commits: never the transaction no reader saw, and every one
/// written over it.
/// </summary>
public sealed class UnpublishedCommitTests : ReplicationTest
{
    private string SavedHeader => Path.Combine(Path.GetDirectoryName(H.DatabasePath)!, "index-header");

    /// <summary>Copies the wal-index header (both copies, 96 bytes) aside, with <c>dd</c> in another process.</summary>
    /// <remarks>Never from this process: closing a descriptor of the <c>-shm</c> drops the POSIX locks its connections hold there.</remarks>
    private void SaveIndexHeader() => Dd("if=" + H.DatabasePath + "-shm", "of=" + SavedHeader);

    /// <summary>Puts the saved header back: every commit after it is in the log but unpublished.</summary>
    private void PutIndexHeaderBack() => Dd("if=" + SavedHeader, "of=" + H.DatabasePath + "-shm", "conv=notrunc");

    private static void Dd(params string[] args)
    {
        var (exit, _, error) = Shell.Run("dd", [.. args, "bs=96", "count=1", "status=none"]);
        Assert.True(exit == 0, $"dd exited {exit}: {error}");
    }

    /// <summary>Every row's number and batch, in order, as the sqlite3 CLI reads them.</summary>
    private string Rows() => Sqlite3.Query(H.DatabasePath, "SELECT count(*) || ' ' || coalesce(group_concat(n || ':' || batch, ','), '') FROM (SELECT n, batch FROM rows ORDER BY n);");

    /// <summary>Commits one row as a writer that dies before publishing it: its frames are in the log, no reader sees it.</summary>
    private void CommitUnpublished(int batch)
    {
        var before = Rows();
        SaveIndexHeader();
        Commit(1, batch);
        PutIndexHeaderBack();
        Assert.Equal(before, Rows()); // the fault is real: SQLite does not count the commit
    }

    [Fact]
    public async Task ACommitNeverPublished_IsNotReplicated_AndTheCommitsWrittenOverItAre()
    {
        Commit(5, 1);
        using (var session = await OpenAsync())
        {
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();

            CommitUnpublished(batch: 2);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Null(session.Poll().Segment); // nothing committed since the last poll

            Commit(3, 3); // written over the frames no reader saw
            H.Time.Advance(TimeSpan.FromSeconds(1));
            var polled = session.Poll();
            Assert.NotNull(polled.Segment);
            Assert.Equal(3, polled.Segment.Commits);
        }

        var truth = Rows();
        Assert.Equal("8 1:1,2:1,3:1,4:1,5:1,7:3,8:3,9:3", truth);
        RestoreTo(null);
        Writer.Close();
        Assert.Equal(truth, Rows());
    }

    [Fact]
    public async Task ASnapshotTakenWithACommitNeverPublishedInTheLog_StartsWhereSqliteSaysTheLogEnds()
    {
        Commit(5, 1);
        CommitUnpublished(batch: 2);
        using (var session = await OpenAsync())
        {
            Commit(3, 3);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            var polled = session.Poll();
            Assert.NotNull(polled.Segment);
            Assert.Equal(3, polled.Segment.Commits);
        }

        var truth = Rows();
        RestoreTo(null);
        Writer.Close();
        Assert.Equal(truth, Rows());
    }

    [Fact]
    public async Task ACommittedFrameThatDoesNotFollowTheCopiedOnes_EndsTheGeneration_RatherThanStallingIt()
    {
        Commit(5, 1);
        using var session = await OpenAsync();
        H.Time.Advance(TimeSpan.FromSeconds(1));
        session.Poll();
        var copied = session.Position!.Frames;
        Commit(3, 2);

        // A byte of the first new frame's page changes in the file (the -wal holds no lock of SQLite's): its checksum fails.
        using (var wal = new FileStream(H.DatabasePath + "-wal", FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            wal.Position = WalFormat.HeaderSize + (copied * (WalFormat.FrameHeaderSize + 4096L)) + WalFormat.FrameHeaderSize + 100;
            var b = wal.ReadByte();
            wal.Position--;
            wal.WriteByte((byte)(b ^ 0xFF));
        }

        H.Time.Advance(TimeSpan.FromSeconds(1));
        var broken = Assert.Throws<Emergence.Persistence.Replication.ReplicationBrokenException>(() => session.Poll());
        Assert.Contains($"frame {copied + 1}", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThePublishedEnd_IsTheLogSqliteReports()
    {
        Commit(7, 1);
        var end = PublishedEnds.With(H.DatabasePath, published => published);

        // The sqlite3 CLI's passive checkpoint reports the log's committed frames: busy|log|checkpointed.
        var log = Checkpoint("PASSIVE").Split('|')[1];
        Assert.Equal(long.Parse(log, CultureInfo.InvariantCulture), end.Frames);
        var header = WalFormat.ReadHeader(File.ReadAllBytes(H.DatabasePath + "-wal").AsSpan(0, WalFormat.HeaderSize))!;
        Assert.True(end.IsLog(header));
    }

    [Fact]
    public void ThePublishedEnd_IsNotReadOutsideATransaction()
    {
        Commit(3, 1);
        using var reader = new SqliteConnection($"Data Source={H.DatabasePath};Mode=ReadOnly;Pooling=False");
        reader.Open();

        // Outside one, SQLite refuses the snapshot as it does for a log nothing was written to: that must not read as "nothing".
        Assert.Throws<InvalidOperationException>(() => PublishedLogEnd.Of(reader));
    }

    [Fact]
    public void AWalIndexHeaderThatDoesNotCheck_IsRefused()
    {
        // A header of a log with 9 frames, as SQLite writes it (native order), its checksum over the first 40 bytes.
        var header = new byte[48];
        BitConverter.TryWriteBytes(header.AsSpan(0), 3007000u);
        header[12] = 1;
        BitConverter.TryWriteBytes(header.AsSpan(14), (ushort)4096);
        BitConverter.TryWriteBytes(header.AsSpan(16), 9u);
        header[35] = 7;
        uint s1 = 0, s2 = 0;
        for (var i = 0; i < 40; i += 8)
        {
            s1 += BitConverter.ToUInt32(header, i) + s2;
            s2 += BitConverter.ToUInt32(header, i + 4) + s1;
        }

        BitConverter.TryWriteBytes(header.AsSpan(40), s1);
        BitConverter.TryWriteBytes(header.AsSpan(44), s2);
        Assert.Equal(new PublishedLogEnd(7, 0, 9), PublishedLogEnd.Parse(header));

        header[16] = 10; // the frame count changed without its checksum
        Assert.Throws<InvalidOperationException>(() => PublishedLogEnd.Parse(header));
    }
}
