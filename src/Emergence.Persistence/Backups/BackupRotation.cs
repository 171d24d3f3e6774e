using System.Text.RegularExpressions;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Backups;

/// <summary>
/// What is deleted from a backup directory, always under the backup lock: leftovers of interrupted
/// backups (<c>*.tmp</c>, backups without a manifest), verified backups beyond the retention rules, and
/// quarantine directories beyond <see cref="PersistenceOptions.KeepBackups"/>. A backup <paramref name="held"/> names (a
/// base the restore window's history starts from) stays, whatever the tiers say.
/// </summary>
internal sealed partial class BackupRotation(PersistenceOptions options, TimeProvider time, ILogger logger, IHeldBackups? held = null)
{
    /// <summary>Removes leftovers and returns the scan it worked from (its backups are still valid after the sweep).</summary>
    public BackupInventory SweepLeftovers(string directory, string databasePath)
    {
        var inventory = BackupCatalog.Scan(directory, databasePath, time.GetUtcNow());
        var swept = new List<string>();
        foreach (var temp in inventory.TempFiles)
        {
            File.Delete(temp);
            swept.Add(Path.GetFileName(temp));
        }

        if (swept.Count > 0)
        {
            PersistenceLog.BackupLeftoversSwept(logger, swept.Count, string.Join(", ", swept));
        }

        SweepOrphans(inventory);
        return inventory;
    }

    /// <summary>Deletes verified backups the retention rules do not keep (never <paramref name="protectedName"/>), then orphans and old quarantine.</summary>
    public void Rotate(DatabaseLocation location, string? protectedName)
    {
        var now = time.GetUtcNow();
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now);
        var doomed = RetentionPolicy.SelectForDeletion(inventory.Verified, options.Retention, protectedName);
        if (doomed.Count > 0 && held?.Held(location, inventory.Verified, now) is { Count: > 0 } needed && doomed.Where(b => needed.Contains(b.Name)).ToList() is { Count: > 0 } kept)
        {
            var names = string.Join(", ", kept.Select(b => b.Name));
            PersistenceLog.BackupHeldForWindow(logger, kept.Count, names);
            doomed = [.. doomed.Except(kept)];
        }

        foreach (var backup in doomed)
        {
            // The manifest goes first: a backup without one is ignored, never half-trusted.
            File.Delete(backup.ManifestPath);
            File.Delete(backup.Path);
        }

        if (doomed.Count > 0)
        {
            Durable.FsyncDirectory(location.BackupDirectory);
            var deleted = string.Join(", ", doomed.Select(b => b.Name));
            PersistenceLog.BackupRotated(logger, inventory.Verified.Count - doomed.Count, doomed.Count, deleted);
        }

        SweepOrphans(inventory);
        PruneQuarantine(location.BackupDirectory);
    }

    /// <summary>
    /// Keeps the newest <see cref="PersistenceOptions.KeepBackups"/> quarantine directories (what restores replaced)
    /// and deletes older ones: by then at least as many restores have happened since, each quarantining what it
    /// replaced, so the oldest hold states long superseded. Without a bound, a restore loop would fill the volume.
    /// Only directories named as a restore names them are touched.
    /// </summary>
    private void PruneQuarantine(string backupDirectory)
    {
        var root = new DirectoryInfo(Path.Combine(backupDirectory, "quarantine"));
        if (!root.Exists)
        {
            return;
        }

        var stamped = root.EnumerateDirectories()
            .Where(d => d.LinkTarget is null && QuarantineName().IsMatch(d.Name))
            .OrderByDescending(d => d.Name, StringComparer.Ordinal)
            .ToList();
        var doomed = stamped.Skip(options.KeepBackups).ToList();
        foreach (var directory in doomed)
        {
            directory.Delete(recursive: true);
        }

        if (doomed.Count > 0)
        {
            Durable.FsyncDirectory(root.FullName);
            var deleted = string.Join(", ", doomed.Select(d => d.Name));
            PersistenceLog.QuarantinePruned(logger, root.FullName, doomed.Count, deleted);
        }
    }

    private void SweepOrphans(BackupInventory inventory)
    {
        var orphans = inventory.Orphans;
        foreach (var orphan in orphans)
        {
            File.Delete(orphan.Path);
        }

        if (orphans.Count > 0)
        {
            PersistenceLog.BackupLeftoversSwept(logger, orphans.Count, string.Join(", ", orphans.Select(o => o.Name)));
        }
    }

    [GeneratedRegex(@"^\d{8}_\d{6}(_\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex QuarantineName();
}
