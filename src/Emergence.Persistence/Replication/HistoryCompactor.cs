using System.Text.Json;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Merges a generation's closed history files into the levels above them (<see cref="HistoryLevels"/>): for each level,
/// the files of the level below whose commits fall in one of its periods, once a later file shows the period is over
/// (or the generation is no longer written), become one level file holding the last version of each page they changed,
/// with the content checksums before and after them. Only a run of files that follow each other (numbers without a gap,
/// each starting from the content the one before ended at) is merged; the files merged stay until retention finds them
/// covered and past their level's time.
/// </summary>
public static class HistoryCompactor
{
    /// <summary>Writes every level file the generation's closed periods still lack; returns the records of those written.</summary>
    /// <param name="store">The history's store.</param>
    /// <param name="generation">The generation.</param>
    /// <param name="closed">Whether the generation is no longer written (then its last periods are over too).</param>
    /// <param name="logger">Where a failure is logged.</param>
    /// <param name="cancellationToken">Stops between files.</param>
    public static IReadOnlyList<SegmentManifest> Compact(ReplicationStore store, GenerationManifest generation, bool closed, ILogger logger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(generation);
        if (!generation.IsProvable)
        {
            return [];
        }

        var files = store.Files(generation.Id).ToList();
        SweepInterrupted(store, generation, files);
        var written = new List<SegmentManifest>();
        foreach (var level in HistoryLevels.All)
        {
            var children = files.Where(f => f.Level == level.Number - 1 && f.Manifest is not null).OrderBy(f => f.Sequence).ToList();
            var existing = files.Where(f => f.Level == level.Number).ToList();
            var groups = children.GroupBy(c => HistoryLevels.PeriodOf(level.Number, c.Manifest!.LastCommitAt)).ToList();
            for (var g = 0; g < groups.Count - (closed ? 0 : 1); g++)
            {
                var group = groups[g].ToList();
                var (first, last) = (group[0].Sequence, group[^1].Manifest!.Last);
                if (existing.Any(e => e.Sequence <= last && e.Last >= first) || !FollowEachOther(group))
                {
                    continue;
                }

                try
                {
                    var made = Write(store, generation, level.Number, group, cancellationToken);
                    files.Add(made);
                    written.Add(made.Manifest!);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or ZstdSharp.ZstdException or InvalidOperationException)
                {
                    PersistenceLog.HistoryCompactionFailed(logger, ex, generation.Id, level.Number, ex.Message);
                    return written;
                }
            }
        }

        return written;
    }

    /// <summary>
    /// Deletes what a compaction killed between its steps left: a level file without a readable record (renamed into
    /// place, its record not yet written) and a record whose level file is gone, so the period is merged again. A level
    /// file is only ever derived from the files below it, and one without a record is never read, so nothing is lost.
    /// </summary>
    private static void SweepInterrupted(ReplicationStore store, GenerationManifest generation, List<HistoryFile> files)
    {
        try
        {
            SweepInterruptedCore(store, generation, files);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A volume that takes no delete takes no level file either: the write that follows fails and is logged.
            System.Diagnostics.Debug.WriteLine(ex);
        }
    }

    private static void SweepInterruptedCore(ReplicationStore store, GenerationManifest generation, List<HistoryFile> files)
    {
        foreach (var leftover in files.Where(f => f.Level > 0 && f.Manifest is null).ToList())
        {
            File.Delete(leftover.Path + ReplicationStore.ManifestSuffix);
            File.Delete(leftover.Path);
            files.Remove(leftover);
        }

        var directory = store.DirectoryOf(generation.Id);
        foreach (var record in Directory.EnumerateFiles(directory, "L*" + ReplicationStore.LevelSuffix + ReplicationStore.ManifestSuffix))
        {
            if (!File.Exists(record[..^ReplicationStore.ManifestSuffix.Length]))
            {
                File.Delete(record);
            }
        }
    }

    /// <summary>Whether the files follow each other: numbers without a gap, each starting from the content the one before ended at.</summary>
    private static bool FollowEachOther(List<HistoryFile> group)
    {
        for (var i = 1; i < group.Count; i++)
        {
            var (before, after) = (group[i - 1].Manifest!, group[i].Manifest!);
            if (after.Sequence != before.Last + 1 || !string.Equals(after.StartHash, before.EndHash, StringComparison.Ordinal) || after.PageSize != before.PageSize)
            {
                return false;
            }
        }

        return group[0].Manifest!.StartHash is not null && group[^1].Manifest!.EndHash is not null;
    }

    private static HistoryFile Write(ReplicationStore store, GenerationManifest generation, int level, List<HistoryFile> group, CancellationToken cancellationToken)
    {
        var (head, tail) = (group[0].Manifest!, group[^1].Manifest!);
        var directory = store.DirectoryOf(generation.Id);
        var name = ReplicationStore.LevelName(level, head.Sequence, tail.Last);
        var path = Path.Combine(directory, name);
        var temp = path + Durable.TempSuffix;
        File.Delete(temp);
        var smallest = group.Min(f => f.Manifest!.LevelOrZero == 0 ? f.Manifest.DatabasePages : f.Manifest.SmallestPages ?? 0);
        LevelFile.Header header;
        (string Checksum, long Size, int Pages) file;
        if (level == 1)
        {
            // Segments hold frames in commit order: their last versions are gathered in memory (a level-1 period is seconds of commits).
            var changes = new PageChanges(head.PageSize);
            foreach (var segment in group)
            {
                if (SegmentReader.Read(segment, null, out var read) is { } problem)
                {
                    throw new InvalidDataException($"segment {Path.GetFileName(segment.Path)}: {problem}");
                }

                changes.Then(read);
            }

            header = new LevelFile.Header(head.PageSize, changes.FinalSize, Math.Min(changes.SmallestSize, changes.FinalSize));
            smallest = header.SmallestPages;
            file = LevelFile.Write(temp, header, changes.Surviving(), cancellationToken);
        }
        else
        {
            foreach (var child in group)
            {
                if (LevelFile.Check(child.Path, child.Manifest!, cancellationToken) is { } problem)
                {
                    throw new InvalidDataException($"level file {Path.GetFileName(child.Path)}: {problem}");
                }
            }

            header = new LevelFile.Header(head.PageSize, tail.DatabasePages, smallest);
            file = LevelFile.Write(temp, header, Merge(group), cancellationToken);
        }

        var manifest = LevelManifest(generation, level, group, name, header.FinalPages, smallest, file);
        Durable.PlaceWithRecord(temp, path, path + ReplicationStore.ManifestSuffix, JsonSerializer.SerializeToUtf8Bytes(manifest, PersistenceJson.Options));
        return HistoryFile.OnVolume(head.Sequence, path, manifest) with { Level = level, Last = tail.Last };
    }

    /// <summary>
    /// The record of a level file merged from <paramref name="group"/>: the first file's start (its log position, chain and
    /// content checksum), the last one's end, the commits of all, and the written file's size, checksum and pages.
    /// </summary>
    private static SegmentManifest LevelManifest(GenerationManifest generation, int level, List<HistoryFile> group, string name, uint finalPages, uint smallest, (string Checksum, long Size, int Pages) file)
    {
        var (head, tail) = (group[0].Manifest!, group[^1].Manifest!);
        return new SegmentManifest
        {
            Generation = generation.Id,
            Sequence = head.Sequence,
            Filename = name,
            Salt1 = head.Salt1,
            Salt2 = head.Salt2,
            CheckpointSequence = head.CheckpointSequence,
            FirstFrame = head.FirstFrame,
            LastFrame = tail.EndPosition.Frames,
            StartChain = head.StartChain,
            EndChain = [tail.EndPosition.S1, tail.EndPosition.S2],
            PageSize = head.PageSize,
            BigEndianChecksums = head.BigEndianChecksums,
            Commits = group.Sum(f => f.Manifest!.Commits),
            DatabasePages = finalPages,
            FirstCommitAt = head.FirstCommitAt,
            LastCommitAt = tail.LastCommitAt,
            Size = file.Size,
            Checksum = file.Checksum,
            Format = GenerationManifest.CurrentFormat,
            StartHash = head.StartHash,
            EndHash = tail.EndHash,
            ResumedByContent = head.ResumedByContent,
            Level = level,
            LastSequence = tail.Last,
            End = tail.EndPosition,
            SmallestPages = smallest,
            Pages = file.Pages,
            Codec = HistoryZstd.Codec,
            ResumesInside = group.Skip(1).Any(f => f.Manifest!.ResumedByContent == true || f.Manifest.ResumesInside == true) || head.ResumesInside == true,
        };
    }

    /// <summary>
    /// The pages of level files that follow each other, merged in one pass in page order: each page at its version in the
    /// newest file that holds it, unless a later file's run cut the database below it (then it reads as zeros, as a
    /// replay in order leaves it), and only within the final size.
    /// </summary>
    private static IEnumerable<(uint Page, byte[] Data)> Merge(List<HistoryFile> group)
    {
        var final = group[^1].Manifest!.DatabasePages;
        // The smallest size any file after file i cut the database to.
        var cutAfter = new uint[group.Count];
        var cut = uint.MaxValue;
        for (var i = group.Count - 1; i >= 0; i--)
        {
            cutAfter[i] = cut;
            cut = Math.Min(cut, group[i].Manifest!.SmallestPages ?? 0);
        }

        var readers = group.Select(f => LevelFile.Pages(f.Path, _ => { }).GetEnumerator()).ToList();
        try
        {
            var live = readers.Select(r => r.MoveNext()).ToArray();
            while (true)
            {
                var page = uint.MaxValue;
                for (var i = 0; i < readers.Count; i++)
                {
                    if (live[i] && readers[i].Current.Page < page)
                    {
                        page = readers[i].Current.Page;
                    }
                }

                if (page == uint.MaxValue)
                {
                    yield break;
                }

                byte[]? newest = null;
                var from = -1;
                for (var i = 0; i < readers.Count; i++)
                {
                    if (live[i] && readers[i].Current.Page == page)
                    {
                        (newest, from) = (readers[i].Current.Data, i);
                        live[i] = readers[i].MoveNext();
                    }
                }

                if (page <= final && page <= cutAfter[from])
                {
                    yield return (page, newest!);
                }
            }
        }
        finally
        {
            foreach (var reader in readers)
            {
                reader.Dispose();
            }
        }
    }
}
