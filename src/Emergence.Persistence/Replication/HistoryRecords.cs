namespace Emergence.Persistence.Replication;

/// <summary>
/// A generation's history files as <see cref="History"/> reads its run from them: listed by name (each name gives its
/// level and the segments it stands for), each one's record read the first time the run needs it, once. Given files
/// whose records are already read, the loader is the identity and nothing is read again.
/// </summary>
internal sealed class HistoryRecords
{
    private readonly Dictionary<long, HistoryFile> _segments;
    private readonly List<HistoryFile> _levels;
    private readonly Dictionary<long, List<int>> _levelsAt;
    private readonly Dictionary<long, List<int>> _levelsEndingAt;
    private readonly Func<HistoryFile, HistoryFile> _load;
    private readonly Dictionary<string, HistoryFile> _loaded = new(StringComparer.Ordinal);

    /// <summary>The files, as listed; <paramref name="load"/> gives a file with its record.</summary>
    public HistoryRecords(IReadOnlyList<HistoryFile> files, Func<HistoryFile, HistoryFile> load)
    {
        _load = load;
        _segments = files.Where(f => f.Level == 0).ToDictionary(f => f.Sequence);
        _levels = [.. files.Where(f => f.Level > 0).OrderBy(f => f.Level).ThenBy(f => f.Sequence)];
        _levelsAt = IndexBy(l => l.Sequence);
        _levelsEndingAt = IndexBy(l => l.Last);
        Newest = files.Count > 0 ? files.Max(f => f.Last) : 0;
    }

    /// <summary>The last segment any file stands for, by the names.</summary>
    public long Newest { get; }

    /// <summary>
    /// The number the run starts at: the earliest segment listed (with or without a record) or level file with a
    /// readable record; <see langword="null"/> when there is neither.
    /// </summary>
    public long? EarliestStart()
    {
        long? earliest = _segments.Count > 0 ? _segments.Keys.Min() : null;
        foreach (var level in _levels.Where(l => earliest is null || l.Sequence < earliest).OrderBy(l => l.Sequence))
        {
            if (Load(level).Manifest is not null)
            {
                return level.Sequence;
            }
        }

        return earliest;
    }

    /// <summary>Whether segment <paramref name="sequence"/> is listed (its record is not read).</summary>
    public bool IsListed(long sequence) => _segments.ContainsKey(sequence);

    /// <summary>Segment <paramref name="sequence"/> with its record (<see cref="HistoryFile.Manifest"/> <see langword="null"/> when it has no readable one), or <see langword="null"/> when none is listed.</summary>
    public HistoryFile? Segment(long sequence) => _segments.TryGetValue(sequence, out var segment) ? Load(segment) : null;

    /// <summary>The level files starting at segment <paramref name="sequence"/> that have a readable record, finest first.</summary>
    public IReadOnlyList<HistoryFile> LevelsAt(long sequence) => _levelsAt.TryGetValue(sequence, out var at)
        ? [.. at.Select(i => Load(_levels[i])).Where(l => l.Manifest is not null)]
        : [];

    /// <summary>
    /// The finest file listed that ends where <paramref name="level"/> ends and is finer than it (the segment there, else
    /// the finest level file), with its record (<see cref="HistoryFile.Manifest"/> <see langword="null"/> when it has no
    /// readable one); <see langword="null"/> when none is listed.
    /// </summary>
    public HistoryFile? FinerEndingWith(HistoryFile level)
    {
        ArgumentNullException.ThrowIfNull(level);
        if (_segments.ContainsKey(level.Last))
        {
            return Segment(level.Last);
        }

        return _levelsEndingAt.TryGetValue(level.Last, out var ending) && ending.Select(i => _levels[i]).Where(l => l.Level < level.Level).MinBy(l => l.Level) is { } finer
            ? Load(finer)
            : null;
    }

    /// <summary>The level files that <paramref name="byName"/> keeps (asked before any record is read) and that have a readable record, by level then first segment.</summary>
    public IEnumerable<HistoryFile> Levels(Func<HistoryFile, bool> byName) =>
        _levels.Where(byName).Select(Load).Where(l => l.Manifest is not null);

    /// <summary>The indexes of the level files in their order, by <paramref name="key"/>.</summary>
    private Dictionary<long, List<int>> IndexBy(Func<HistoryFile, long> key) =>
        Enumerable.Range(0, _levels.Count).GroupBy(i => key(_levels[i])).ToDictionary(g => g.Key, g => g.ToList());

    private HistoryFile Load(HistoryFile file)
    {
        if (!_loaded.TryGetValue(file.Path, out var loaded))
        {
            _loaded[file.Path] = loaded = _load(file);
        }

        return loaded;
    }
}
