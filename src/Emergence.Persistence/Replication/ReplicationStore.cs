using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Where replication keeps its history, under the backup directory: <c>replication/&lt;generation&gt;/</c> holds
/// <c>generation.json</c> and numbered segments (<c>0000000001.frames</c>, each with a <c>.json</c> manifest
/// written once the segment is durable).
/// </summary>
public sealed class ReplicationStore(string backupDirectory)
{
    /// <summary>The folder under the backup directory.</summary>
    public const string DirectoryName = "replication";

    /// <summary>A generation's record.</summary>
    public const string GenerationFileName = "generation.json";

    /// <summary>The record a restore writes into the generation it ends: points of it after that time are no state the database had.</summary>
    public const string EndedFileName = "ended.json";

    /// <summary>The prefix of the scratch folders an off-volume restore downloads segments into.</summary>
    public const string RestoreScratchPrefix = ".restore-";

    /// <summary>A segment file's suffix; its manifest adds <see cref="ManifestSuffix"/>.</summary>
    public const string SegmentSuffix = ".frames";

    /// <summary>A level file's suffix (<c>L&lt;level&gt;-&lt;first&gt;-&lt;last&gt;.pages</c>); its record adds <see cref="ManifestSuffix"/>.</summary>
    public const string LevelSuffix = ".pages";

    /// <summary>The suffix of a segment's manifest.</summary>
    public const string ManifestSuffix = ".json";

    /// <summary>The folder holding every generation.</summary>
    public string Root { get; } = Path.Combine(backupDirectory, DirectoryName);

    /// <summary>A generation's folder.</summary>
    public string DirectoryOf(string generation) => Path.Combine(Root, generation);

    /// <summary>A segment's file name.</summary>
    public static string SegmentName(long sequence) => sequence.ToString("D10", CultureInfo.InvariantCulture) + SegmentSuffix;

    /// <summary>Reads a segment's number from its file name (<c>NNNNNNNNNN.frames</c>).</summary>
    public static bool TryParseSegmentName(string name, out long sequence)
    {
        sequence = 0;
        return name.Length == 10 + SegmentSuffix.Length && name.EndsWith(SegmentSuffix, StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(0, 10), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }

    /// <summary>A level file's name: its level and the first and last segments of the run it stands for.</summary>
    public static string LevelName(int level, long first, long last) =>
        string.Create(CultureInfo.InvariantCulture, $"L{level}-{first:D10}-{last:D10}{LevelSuffix}");

    /// <summary>Reads a level file's level and run from its name (<c>L&lt;level&gt;-NNNNNNNNNN-NNNNNNNNNN.pages</c>).</summary>
    public static bool TryParseLevelName(string name, out int level, out long first, out long last)
    {
        (level, first, last) = (0, 0, 0);
        return name.Length == 2 + 1 + 10 + 1 + 10 + LevelSuffix.Length && name[0] == 'L' && name[2] == '-' && name[13] == '-'
            && name.EndsWith(LevelSuffix, StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(1, 1), NumberStyles.None, CultureInfo.InvariantCulture, out level) && level >= 1
            && long.TryParse(name.AsSpan(3, 10), NumberStyles.None, CultureInfo.InvariantCulture, out first)
            && long.TryParse(name.AsSpan(14, 10), NumberStyles.None, CultureInfo.InvariantCulture, out last) && first <= last;
    }

    /// <summary>A new generation id: its start time to the millisecond and a random part, so ids sort by start.</summary>
    public static string NewGenerationId(DateTimeOffset now) =>
        now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    /// <summary>Writes a generation's record durably, creating its folder.</summary>
    public void WriteGeneration(GenerationManifest generation)
    {
        ArgumentNullException.ThrowIfNull(generation);
        var directory = DirectoryOf(generation.Id);
        Directory.CreateDirectory(directory);
        Durable.FsyncDirectory(Root);
        var path = Path.Combine(directory, GenerationFileName);
        Durable.WriteFileAtomically(path + Durable.TempSuffix, path, JsonSerializer.SerializeToUtf8Bytes(generation, PersistenceJson.Options));
    }

    /// <summary>Every generation of <paramref name="databasePath"/> whose record reads, oldest first.</summary>
    public IReadOnlyList<GenerationManifest> Generations(string databasePath)
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        var found = new List<GenerationManifest>();
        foreach (var directory in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
        {
            if (VolumeRecord.Read<GenerationManifest>(directory, GenerationFileName, _ => null!) is { } generation
                && generation.Id == Path.GetFileName(directory)
                && string.Equals(generation.DatabasePath, databasePath, StringComparison.Ordinal))
            {
                found.Add(generation);
            }
        }

        // Ids sort by a clock that may have been wrong; numbers by the order the generations were started in.
        return [.. found.OrderBy(g => g.Number ?? 0).ThenBy(g => g.Id, StringComparer.Ordinal)];
    }

    /// <summary>The number the next generation gets: one more than the highest of any database in this directory.</summary>
    public long NextNumber(string databasePath) => Generations(databasePath).Select(g => g.Number ?? 0).DefaultIfEmpty(0).Max() + 1;

    /// <summary>Why and when a generation was ended by a restore, if it was.</summary>
    /// <param name="At">When the restore replaced the database: no point of the generation after it is a state the database had.</param>
    /// <param name="Why">What replaced it.</param>
    public sealed record Ended([property: System.Text.Json.Serialization.JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset At, string Why);

    /// <summary>The restore that ended <paramref name="generation"/>, if one did.</summary>
    public Ended? EndedOf(string generation) => VolumeRecord.Read<Ended>(DirectoryOf(generation), EndedFileName, _ => null!);

    /// <summary>Records that a restore replaced the database at <paramref name="at"/>: the newest generation of it ends there and is never resumed.</summary>
    public void MarkRestored(string databasePath, DateTimeOffset at, string why)
    {
        var generations = Generations(databasePath);
        if (generations.Count == 0 || EndedOf(generations[^1].Id) is not null)
        {
            return;
        }

        var path = Path.Combine(DirectoryOf(generations[^1].Id), EndedFileName);
        Durable.WriteFileAtomically(path + Durable.TempSuffix, path, JsonSerializer.SerializeToUtf8Bytes(new Ended(at, why), PersistenceJson.Options));
    }

    /// <summary>Deletes the scratch folders interrupted off-volume restores left (only call with the volume lock held).</summary>
    public void SweepRestoreScratch()
    {
        if (!Directory.Exists(Root))
        {
            return;
        }

        foreach (var directory in Directory.EnumerateDirectories(Root, RestoreScratchPrefix + "*"))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A generation's level files, by level then first segment, those with a readable record and those without.</summary>
    public IReadOnlyList<HistoryFile> Levels(string generation) => [.. LevelNames(generation).Select(f => WithRecord(generation, f))];

    /// <summary>Every history file of a generation: its segments in order, then its level files.</summary>
    public IReadOnlyList<HistoryFile> Files(string generation) => [.. Segments(generation), .. Levels(generation)];

    /// <summary>A generation's segments in order, those with a readable manifest and those without (an interrupted write, or damage).</summary>
    public IReadOnlyList<HistoryFile> Segments(string generation) => [.. SegmentNames(generation).Select(f => WithRecord(generation, f))];

    /// <summary>
    /// Every history file of a generation as <see cref="Files"/> lists them, from their names alone: no record is read
    /// (<see cref="HistoryFile.Manifest"/> is <see langword="null"/> until <see cref="WithRecord"/> reads it).
    /// </summary>
    public IReadOnlyList<HistoryFile> Names(string generation) => [.. SegmentNames(generation), .. LevelNames(generation)];

    /// <summary>
    /// <paramref name="file"/> (listed by <see cref="Names"/>) with its record, when it reads and matches its name; its
    /// <see cref="HistoryFile.Manifest"/> is <see langword="null"/> otherwise.
    /// </summary>
    public HistoryFile WithRecord(string generation, HistoryFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var name = Path.GetFileName(file.Path);
        var manifest = VolumeRecord.Read<SegmentManifest>(DirectoryOf(generation), name + ManifestSuffix, _ => null!);
        var valid = manifest is not null && manifest.Generation == generation && manifest.Sequence == file.Sequence
            && (file.Level == 0 || (manifest.LevelOrZero == file.Level && manifest.Last == file.Last && manifest.Filename == name));
        return file with { Manifest = valid ? manifest : null };
    }

    private List<HistoryFile> LevelNames(string generation)
    {
        var directory = DirectoryOf(generation);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var found = new List<HistoryFile>();
        foreach (var path in Directory.EnumerateFiles(directory, "L*" + LevelSuffix))
        {
            if (TryParseLevelName(Path.GetFileName(path), out var level, out var first, out var last))
            {
                found.Add(HistoryFile.OnVolume(first, path, null) with { Level = level, Last = last });
            }
        }

        return [.. found.OrderBy(f => f.Level).ThenBy(f => f.Sequence)];
    }

    private List<HistoryFile> SegmentNames(string generation)
    {
        var directory = DirectoryOf(generation);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var segments = new SortedDictionary<long, HistoryFile>();
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(path);
            var file = name.EndsWith(SegmentSuffix + ManifestSuffix, StringComparison.Ordinal) ? name[..^ManifestSuffix.Length] : name;
            if (TryParseSegmentName(file, out var sequence))
            {
                segments.TryAdd(sequence, HistoryFile.OnVolume(sequence, Path.Combine(directory, SegmentName(sequence)), null));
            }
        }

        return [.. segments.Values];
    }

    /// <summary>
    /// Makes a written (and fsynced) segment part of the timeline: renames it into place, then its manifest (written and
    /// fsynced first), so that a segment with a manifest is always whole; one fsync of the directory makes both
    /// durable (three in all with the segment's own, where each rename had its own before).
    /// </summary>
    public SegmentManifest Commit(string tempPath, SegmentManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var path = Path.Combine(DirectoryOf(manifest.Generation), manifest.Filename);
        Durable.PlaceWithRecord(tempPath, path, path + ManifestSuffix, JsonSerializer.SerializeToUtf8Bytes(manifest, PersistenceJson.Options));
        return manifest;
    }

    /// <summary>
    /// Deletes what interrupted writes left in a generation's folder: a segment's temporary files (<c>*.tmp</c>: a segment
    /// being filled, its record being written), and a newest segment with no record at all or a newest record whose
    /// segment is still in its temporary file (a commit cut off before the fsync that makes its two renames durable,
    /// which the history never counted; an unreadable record, or a record whose segment is gone, is damage, and stays
    /// to be named).
    /// </summary>
    public void SweepInterrupted(string generation)
    {
        var directory = DirectoryOf(generation);
        if (!Directory.Exists(directory))
        {
            return;
        }

        var files = Files(generation);
        var newest = files.Count > 0 && files.MaxBy(f => f.Last) is { Level: 0 } last && files.Count(f => f.Last == last.Last) == 1 ? last : null;
        // A record without its segment is an interrupted commit only when the segment is still in its temporary file;
        // a segment lost after its commit is damage, and stays to be named.
        var (segment, record, renaming) = newest is null ? default
            : (File.Exists(newest.Path), File.Exists(newest.Path + ManifestSuffix), File.Exists(newest.Path + Durable.TempSuffix));

        // A level file's temporary is the compactor's to sweep (a pass may be writing one now).
        foreach (var temp in Directory.EnumerateFiles(directory, "*" + Durable.TempSuffix).Where(IsSegmentTemporary))
        {
            File.Delete(temp);
        }

        if (newest is null)
        {
            return;
        }

        if (segment && !record)
        {
            File.Delete(newest.Path);
        }
        else if (record && !segment && renaming && newest.Manifest is not null)
        {
            File.Delete(newest.Path + ManifestSuffix);
        }
    }

    private static bool IsSegmentTemporary(string path)
    {
        var name = Path.GetFileName(path)[..^Durable.TempSuffix.Length];
        return TryParseSegmentName(name.EndsWith(ManifestSuffix, StringComparison.Ordinal) ? name[..^ManifestSuffix.Length] : name, out _);
    }
}
