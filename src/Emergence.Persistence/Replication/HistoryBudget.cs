using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// The history's space budget: it never takes the room the database and its next backup need on the volume
/// (<see cref="BackupSpace.Required"/> free). When the volume is short of that, the oldest history goes first: the
/// generations before the one being written, whole, then that one's files from its oldest point (the coarsest part), until
/// the room is there or its history starts at its newest base (the newest kept backup it can replay from), which always
/// stays restorable with every point after it. The restore window is then shorter than the setting asks, which
/// <see cref="PersistenceLog.HistoryThinned"/> logs and health reports.
/// </summary>
public static class HistoryBudget
{
    /// <summary>What thinning did.</summary>
    /// <param name="Files">Files deleted.</param>
    /// <param name="Bytes">Their size.</param>
    /// <param name="From">The oldest point left: the window now starts there.</param>
    /// <param name="Needed">The free bytes the volume needs.</param>
    public sealed record Thinned(int Files, long Bytes, DateTimeOffset? From, long Needed);

    /// <summary>
    /// Thins the history, oldest first, when <paramref name="freeBytes"/> is less than one and a half times what the
    /// database and its next backup need, until twice that is free (or nothing older than the newest base is left);
    /// <see langword="null"/> when there is room.
    /// </summary>
    public static Thinned? Thin(DatabaseLocation location, long freeBytes, string? current, DateTimeOffset now, ReplicationOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(options);
        var needed = BackupSpace.Required(BackupSpace.DatabaseBytes(location.DatabasePath));
        // Thinned once less than half as much again is left, to twice what is needed: the history goes on growing
        // between checks, and a volume kept at the edge would be short (for the next backup, or the writer) before the next.
        if (freeBytes >= needed + (needed / 2))
        {
            return null;
        }

        var target = needed * 2;

        var store = new ReplicationStore(location.BackupDirectory);
        var kept = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now).Verified.Select(b => b.Manifest!).ToList();
        var (files, bytes) = (0, 0L);
        foreach (var generation in store.Generations(location.DatabasePath).OrderBy(g => g.Id == current))
        {
            var (deleted, freed) = generation.Id != current ? DeleteWhole(store, generation) : ThinToNewestBase(store, generation, kept, target - freeBytes - bytes);
            files += deleted;
            bytes += freed;
            if (freeBytes + bytes >= target)
            {
                break;
            }
        }

        if (files == 0)
        {
            return null;
        }

        var from = Timeline.Windows(History.ReadAll(location.BackupDirectory, location.DatabasePath)).Select(w => (DateTimeOffset?)w.From).Min();
        var at = from is { } f ? UtcMillisecondsConverter.Format(f) : "(no point)";
        PersistenceLog.HistoryThinned(logger, files, bytes, location.BackupDirectory, needed, at, (int)options.RestoreWindow.TotalDays);
        return new Thinned(files, bytes, from, needed);
    }

    /// <summary>The bytes free on the file system holding <paramref name="directory"/>.</summary>
    public static long FreeBytes(string directory) => new DriveInfo(directory).AvailableFreeSpace;

    /// <summary>The sentence health shows while the window is shorter than the setting because of thinning, or <see langword="null"/> once the thinned part would have aged out anyway.</summary>
    public static string? Sentence(Thinned thinned, DateTimeOffset now, ReplicationOptions options)
    {
        ArgumentNullException.ThrowIfNull(thinned);
        ArgumentNullException.ThrowIfNull(options);
        if (thinned.From is { } from && from <= now - options.RestoreWindow)
        {
            return null;
        }

        var back = thinned.From is { } f ? UtcMillisecondsConverter.Format(f) : "no point at all";
        return $"The replicated history was thinned to leave the volume room for the database and its next backup ({thinned.Needed} bytes free): "
            + $"points can be restored back to {back}, not the {(int)options.RestoreWindow.TotalDays} days Persistence__Replication__RestoreWindowDays asks. Give the volume more space.";
    }

    /// <summary>Deletes a generation that is not being written, whole; returns how many files went and their size.</summary>
    private static (int Files, long Bytes) DeleteWhole(ReplicationStore store, GenerationManifest generation)
    {
        var all = store.Files(generation.Id);
        var bytes = all.Sum(f => RegularFile.LengthOrZero(f.Path));
        Directory.Delete(store.DirectoryOf(generation.Id), recursive: true);
        return (all.Count, bytes);
    }

    /// <summary>
    /// Deletes the generation being written from its oldest point on, a step of its run at a time, until
    /// <paramref name="wanted"/> bytes are freed or its history starts at its newest base (of <paramref name="kept"/>).
    /// </summary>
    private static (int Files, long Bytes) ThinToNewestBase(ReplicationStore store, GenerationManifest generation, List<BackupManifest> kept, long wanted)
    {
        var all = store.Files(generation.Id);
        var history = History.Read(generation, all, null, History.Check.Records);
        var newestBase = kept.Select(b => Timeline.BaseIn(history, b)?.Index).OfType<int>().DefaultIfEmpty(0).Max();
        var gone = new HashSet<string>(StringComparer.Ordinal);
        var (files, bytes) = (0, 0L);
        foreach (var step in history.Run.Take(newestBase))
        {
            if (bytes >= wanted)
            {
                break;
            }

            // The step and everything that ends with it or before it: nothing older than the new first point is of use.
            foreach (var file in all.Where(f => f.Last <= step.Manifest!.Last && gone.Add(f.Path)))
            {
                bytes += Delete(file);
                files++;
            }
        }

        return (files, bytes);
    }

    private static long Delete(HistoryFile file)
    {
        var size = RegularFile.LengthOrZero(file.Path);
        File.Delete(file.Path + ReplicationStore.ManifestSuffix);
        File.Delete(file.Path);
        return size;
    }
}
