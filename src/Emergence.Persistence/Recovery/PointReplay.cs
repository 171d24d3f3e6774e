using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// Brings a verified copy of a backup forward along a plan: replays its segments and proves the result: its
/// content checksum must be the one the history recorded at the point the replay reached, and SQLite must open
/// it and read its schema. A backup that is a base of a generation must also hold the content the history
/// recorded where it places it. The checksum is read from the result: whole, or, when the copy's own checksum was
/// measured from the copy by its verification, from the pages the replay changed (<see cref="StagedFile"/>); a
/// measured copy must also hold the content its manifest records, and the history where it places it.
/// </summary>
internal static class PointReplay
{
    /// <summary>What replaying did, whether SQLite opened the proven result (<c>ok</c> or its complaint; <see langword="null"/> when nothing was replayed or the proof failed), why the proof failed, and the schema's size.</summary>
    internal sealed record Outcome(SegmentReplay.Result Replay, string? CheckResult, string? ProofProblem, long? SchemaObjects);

    /// <summary>Replays <paramref name="segments"/> (the plan's, as local files) onto the database file at <paramref name="staging"/> and proves the result.</summary>
    public static Outcome Apply<TBackup>(SqliteConnectionFactory connections, string staging, Timeline.Plan<TBackup> plan, IReadOnlyList<HistoryFile> segments,
        ILogger logger, CancellationToken cancellationToken) => Apply(connections, staging, plan, segments, null, null, logger, cancellationToken);

    /// <summary>
    /// Replays <paramref name="segments"/> onto <paramref name="staging"/> and proves the result, reporting each step (<c>replay</c>,
    /// <c>content proof</c>, <c>schema</c>) to <paramref name="progress"/>. <paramref name="copyChecksum"/> is the staged copy's
    /// content checksum as its verification measured it, reading the copy (the proof then reads back only what the replay
    /// changes); <see langword="null"/>: the proof reads the whole result.
    /// </summary>
    public static Outcome Apply<TBackup>(SqliteConnectionFactory connections, string staging, Timeline.Plan<TBackup> plan, IReadOnlyList<HistoryFile> segments,
        ulong? copyChecksum, IProgress<OperationProgress>? progress, ILogger logger, CancellationToken cancellationToken)
    {
        if (plan.Generation is not { } generation)
        {
            return new Outcome(new SegmentReplay.Result(0, 0, null, null), null, null, null);
        }

        // The history places the backup at a point: its own record of its content must agree, or the history is not this database's.
        if (plan.Skip is null && PageHashes.Parse(plan.Manifest.ContentHash) is { } own && plan.BaseHash is { } recorded && own != recorded)
        {
            return new Outcome(new SegmentReplay.Result(0, 0, null, null), null,
                $"the backup's content checksum {PageHashes.Format(own)} is not the one generation {generation.Id} recorded at its point ({PageHashes.Format(recorded)})", null);
        }

        if (copyChecksum is { } held && PageHashes.Parse(plan.Manifest.ContentHash) is { } manifests && held != manifests)
        {
            return new Outcome(new SegmentReplay.Result(0, 0, null, null), null,
                $"the copy of the backup holds content checksum {PageHashes.Format(held)}, not the {PageHashes.Format(manifests)} its manifest records", null);
        }

        if (plan.Skip is null && copyChecksum is { } measured && plan.BaseHash is { } placed && measured != placed)
        {
            return new Outcome(new SegmentReplay.Result(0, 0, null, null), null,
                $"the copy of the backup holds content checksum {PageHashes.Format(measured)}, not the one generation {generation.Id} recorded at its point ({PageHashes.Format(placed)})", null);
        }

        if (segments.Count == 0)
        {
            return new Outcome(new SegmentReplay.Result(0, 0, null, null), null, null, null);
        }

        progress?.Report(new OperationProgress("replay", 0, segments.Count));
        SegmentReplay.Result replay;
        ulong? expected;
        ulong actual;
        bool readWhole;
        using (var file = new StagedFile(staging, keepAccount: copyChecksum is not null))
        {
            replay = SegmentReplay.Apply(file, generation.Id, segments, plan.Skip, logger, cancellationToken);
            progress?.Report(new OperationProgress("content proof", 0, 0));
            expected = replay.Segments == 0 ? plan.BaseHash : PageHashes.Parse(segments[replay.Segments - 1].Manifest!.EndHash);

            // From the pages the replay changed, read back onto the copy's measured checksum; where that does not give
            // the recorded one, or cannot be had (a result that is not whole pages of the copy's size), from the whole
            // result read again, whose checksum the refusal then names.
            var fromChanges = copyChecksum is { } copied && file.Accounted ? ChangedOnto(file, copied, cancellationToken) : null;
            readWhole = fromChanges is null || fromChanges != expected;
            actual = readWhole ? PageHashes.OfFile(file.Handle, staging, PageHashes.ProofWorkers, cancellationToken).Checksum : fromChanges!.Value;
        }

        replay = replay with { ProofReadWhole = readWhole };

        SqliteFiles.DeleteSideFiles(staging);
        var where = replay.Segments == 0 ? $"backup {plan.Manifest.Filename}" : $"segment {segments[replay.Segments - 1].Manifest!.Filename}";
        var proof = replay.Stopped is { } stopped && plan.FinerFollows
            ? $"the replay by level files of generation {generation.Id} stopped early ({stopped}); the plan along finer files follows"
            : expected is null
            ? $"generation {generation.Id} recorded no content checksum at {where}"
            : actual != expected
                ? $"after replaying {replay.Segments} segments of generation {generation.Id}, the content checksum is {PageHashes.Format(actual)}, but the history recorded {PageHashes.Format(expected.Value)} at {where}"
                : null;
        if (proof is not null)
        {
            return new Outcome(replay, null, proof, null);
        }

        // Proven: every page is the database's own at that point, onto a base that passed its check. SQLite
        // opening it and reading its schema is what is left to know (and the schema's size, for an emptied
        // result); a full check would only judge the state the database itself had then.
        progress?.Report(new OperationProgress("schema", 0, 0));
        var (opened, schemaObjects) = OpenAndCountSchema(connections, staging);
        SqliteFiles.DeleteSideFiles(staging);
        return new Outcome(replay, opened, null, schemaObjects);
    }

    /// <summary>The result's checksum from the pages the replay changed, or <see langword="null"/> when the result is not whole pages of the copy's size.</summary>
    private static ulong? ChangedOnto(StagedFile file, ulong copyChecksum, CancellationToken cancellationToken)
    {
        try
        {
            return file.ChecksumNow(copyChecksum, cancellationToken);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Opens the replayed file read-only and counts its schema's objects: <c>ok</c> and the count, or SQLite's complaint.</summary>
    private static (string Result, long? SchemaObjects) OpenAndCountSchema(SqliteConnectionFactory connections, string staging)
    {
        try
        {
            using var connection = connections.OpenReadOnly(staging);
            return ("ok", DatabaseInspector.Scalar(connection, "SELECT count(*) FROM sqlite_schema"));
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            return (ex.Message, null);
        }
    }
}
