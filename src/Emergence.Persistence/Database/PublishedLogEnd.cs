using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Database;

/// <summary>
/// The end of the log as SQLite has published it to a read transaction: which log (its salts) and how many of its
/// frames are committed. Frames past it may hold a whole transaction with a valid commit frame and checksums, yet not
/// be committed: a writer killed after writing its commit frame and before publishing it in the wal-index leaves
/// exactly that, and the next writer writes over those frames. Only what is published is the database's history.
/// </summary>
/// <param name="Salt1">The published log's first salt, as its header holds it.</param>
/// <param name="Salt2">The published log's second salt.</param>
/// <param name="Frames">The frames of that log SQLite reports committed (the wal-index's <c>mxFrame</c>).</param>
public sealed record PublishedLogEnd(uint Salt1, uint Salt2, long Frames)
{
    /// <summary>No frame has been published since the log was first opened: there is nothing committed in it.</summary>
    public static PublishedLogEnd Nothing { get; } = new(0, 0, 0);

    /// <summary>The wal-index format this reading knows (the header's <c>iVersion</c>).</summary>
    private const uint IndexVersion = 3007000;

    /// <summary>The wal-index header's size, which SQLite's snapshot copies whole.</summary>
    private const int HeaderBytes = 48;

    /// <summary>Whether <paramref name="header"/> is the published log.</summary>
    public bool IsLog(WalFormat.Header header) => header is not null && header.Salt1 == Salt1 && header.Salt2 == Salt2;

    /// <summary>
    /// Reads the end of the log that <paramref name="connection"/>'s open read transaction sees, through SQLite's
    /// <c>sqlite3_snapshot_get</c>: a copy of the wal-index header the transaction reads under (the 48 bytes the WAL
    /// file format documents: <c>iVersion</c>, <c>mxFrame</c> at 16, the salts at 32, a checksum over the first 40 at
    /// 40). The header is checked (its version, its checksum) before <c>mxFrame</c> is believed. Never by reading the
    /// <c>-shm</c> file: closing any descriptor of it drops every POSIX lock this process's connections hold there.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection is not in a transaction, or SQLite's header is not in the form this reading knows.</exception>
    public static PublishedLogEnd Of(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0)
        {
            // Outside a transaction SQLite's refusal would read as "nothing published", and the log would never be followed.
            throw new InvalidOperationException("the log's committed end is read inside a read transaction, and the connection has none");
        }

        var rc = SQLitePCL.raw.sqlite3_snapshot_get(connection.Handle, "main", out var snapshot);
        using (snapshot)
        {
            if (rc == SQLitePCL.raw.SQLITE_ERROR)
            {
                // With the connection in a read transaction on a WAL database (as here), SQLite refuses a snapshot only
                // when no transaction has been written to the log file since it was created: nothing in it is committed.
                return Nothing;
            }

            if (rc != SQLitePCL.raw.SQLITE_OK)
            {
                SqliteException.ThrowExceptionForRC(rc, connection.Handle);
            }

            var bytes = new byte[HeaderBytes];
            Marshal.Copy(snapshot.DangerousGetHandle(), bytes, 0, HeaderBytes);
            return Parse(bytes);
        }
    }

    /// <summary>Reads a wal-index header (native byte order, the salts as the log's header holds them).</summary>
    /// <exception cref="InvalidOperationException">Not a header of the known version, or its checksum does not match.</exception>
    internal static PublishedLogEnd Parse(ReadOnlySpan<byte> header)
    {
        var words = MemoryMarshal.Cast<byte, uint>(header[..HeaderBytes]);
        uint s1 = 0, s2 = 0;
        for (var i = 0; i < 10; i += 2)
        {
            s1 += words[i] + s2;
            s2 += words[i + 1] + s1;
        }

        if (words[0] != IndexVersion || header[12] != 1 || s1 != words[10] || s2 != words[11])
        {
            throw new InvalidOperationException($"SQLite's wal-index header is not in the form this version reads (version {words[0]}, initialised {header[12]}, checksum {(s1 == words[10] && s2 == words[11] ? "matches" : "does not match")}): the log's committed end cannot be read");
        }

        return new PublishedLogEnd(BinaryPrimitives.ReadUInt32BigEndian(header[32..]), BinaryPrimitives.ReadUInt32BigEndian(header[36..]), words[4]);
    }
}
