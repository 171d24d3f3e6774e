namespace Emergence.Persistence.Database;

/// <summary>
/// How far into one write-ahead log the replicator has gone: the log (its salts and checkpoint sequence),
/// the frames of it already covered, and the checksum chain after the last of them.
/// </summary>
/// <param name="Salt1">The log's first salt.</param>
/// <param name="Salt2">The log's second salt.</param>
/// <param name="CheckpointSequence">The log's checkpoint sequence number.</param>
/// <param name="Frames">How many of its frames are covered (the next one to copy is frame <c>Frames + 1</c>).</param>
/// <param name="S1">The chain's first word after the last covered frame (the header's checksum when none).</param>
/// <param name="S2">The chain's second word.</param>
/// <param name="PageSize">The database page size.</param>
/// <param name="BigEndianChecksums">Whether the log's checksum words are big-endian.</param>
public sealed record WalPosition(uint Salt1, uint Salt2, uint CheckpointSequence, long Frames, uint S1, uint S2, int PageSize, bool BigEndianChecksums)
{
    /// <summary>The start of a log: no frame covered yet.</summary>
    public static WalPosition StartOf(WalFormat.Header header)
    {
        ArgumentNullException.ThrowIfNull(header);
        return new(header.Salt1, header.Salt2, header.CheckpointSequence, 0, header.Checksum.S1, header.Checksum.S2, header.PageSize, header.BigEndianChecksums);
    }

    /// <summary>The log header this position's frames are checked against.</summary>
    public WalFormat.Header Header => new(BigEndianChecksums, PageSize, CheckpointSequence, Salt1, Salt2, Chain);

    /// <summary>The chain after the last covered frame.</summary>
    public WalFormat.Chain Chain => new(S1, S2);

    /// <summary>Whether <paramref name="header"/> is this position's log.</summary>
    public bool IsLog(WalFormat.Header header) => header is not null && header.Salt1 == Salt1 && header.Salt2 == Salt2 && header.CheckpointSequence == CheckpointSequence;

    /// <summary>
    /// Whether <paramref name="header"/> is another log than this position's: its salts differ. SQLite gives every new log
    /// new salts (the first one more than before and the second random, or both random when the connection that writes the
    /// log's first frame has not itself restarted a log). The checkpoint sequence says nothing here: each connection counts
    /// its own restarts, so a new connection's restart can write the same number again, or a lower one. Which log came
    /// before is known only to a reader held without a break (see <see cref="WalTail"/>).
    /// </summary>
    public bool IsOtherLog(WalFormat.Header header) => header is not null && (header.Salt1 != Salt1 || header.Salt2 != Salt2);
}
