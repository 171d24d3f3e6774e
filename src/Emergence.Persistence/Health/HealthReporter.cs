using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Health;

/// <summary>
/// Builds the health report: one check per concern (<see cref="VolumeCheck"/>, <see cref="DatabaseCheck"/>,
/// <see cref="RestoreRequestCheck"/>, <see cref="BackupsCheck"/>, <see cref="OffsiteCheck"/>, <see cref="ReplicationCheck"/>), each returning
/// its section and findings, combined by <see cref="HealthVerdict"/>. It never throws and never creates the
/// database file: everything that goes wrong becomes a problem sentence.
/// </summary>
public sealed class HealthReporter(
    IOptions<PersistenceOptions> options,
    VolumeInspector inspector,
    SqliteConnectionFactory connections,
    BackupActivity activity,
    OffsiteActivity offsite,
    ReplicationActivity replication,
    IntegrityRecord integrity,
    TimeProvider time)
{
    private readonly DatabaseCheck _database = new(connections, integrity);
    private readonly BackupsCheck _backups = new(activity);
    private readonly OffsiteCheck _offsite = new(offsite);
    private readonly ReplicationCheck _replication = new(replication);

    /// <summary>
    /// Reports on the database at <paramref name="location"/>. <paramref name="startupFailure"/> is a sentence
    /// when startup failed. With <paramref name="freshIntegrityCheck"/>, the live database gets a
    /// <c>quick_check</c> now (an operator asking wants the truth); otherwise the last recorded check is reported.
    /// </summary>
    public HealthReport Check(DatabaseLocation location, string? startupFailure = null, bool freshIntegrityCheck = false)
    {
        ArgumentNullException.ThrowIfNull(location);
        var now = time.GetUtcNow();
        try
        {
            return CheckCore(location, startupFailure, now, freshIntegrityCheck);
        }
        catch (Exception ex)
        {
            return Failed(location, now, $"The health check itself failed: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
        }
    }

    /// <summary>An unhealthy report that touches no file: for a check that failed or did not finish in time.</summary>
    public static HealthReport Failed(DatabaseLocation location, DateTimeOffset now, string sentence)
    {
        ArgumentNullException.ThrowIfNull(location);
        return new HealthReport
        {
            Status = HealthStatus.Unhealthy,
            CheckedAt = now,
            Volume = location.Volume,
            Database = new DatabaseReport
            {
                Path = location.DatabasePath,
                OnVolume = false,
                Fallback = location.IsFallback,
                ConfiguredPath = location.ConfiguredDatabasePath,
                Exists = false,
                Size = 0,
                SqliteVersion = SqliteRuntime.Version,
            },
            Backups = new BackupsReport { Directory = location.BackupDirectory, Count = 0 },
            Problems = [sentence],
        };
    }

    private HealthReport CheckCore(DatabaseLocation location, string? startupFailure, DateTimeOffset now, bool freshIntegrityCheck)
    {
        var settings = options.Value;
        var volume = VolumeCheck.Check(inspector.Inspect(Path.GetDirectoryName(location.ConfiguredDatabasePath)!, location.ConfiguredDatabasePath, create: false), location, settings.RequireVolume);
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now);
        var database = _database.Check(location, VolumeCheck.IsOnVolume(volume.Section, location), inventory, freshIntegrityCheck, now);
        var request = RestoreRequestCheck.Check(location);
        var schedule = BackupSchedule.Parse(settings.BackupSchedule);
        var backups = _backups.Check(location, inventory, now, schedule);
        var offsiteCopies = _offsite.Check(location.BackupDirectory, now, settings, backups.Section.Latest, schedule);
        var replicated = _replication.Check(location.BackupDirectory, now, settings.Replication, location.DatabasePath);
        var space = VolumeCheck.Space(volume.Section, database.Section);

        // The order of the problem list: startup, volume, database, restore request, backups, off the volume, replication, space.
        IEnumerable<HealthFinding> findings = [
            .. startupFailure is null ? [] : new[] { HealthFinding.Unhealthy(startupFailure) },
            .. volume.Findings,
            .. database.Findings,
            .. request,
            .. backups.Findings,
            .. offsiteCopies.Findings,
            .. replicated.Findings,
            .. space,
        ];
        var all = findings.ToList();
        return new HealthReport
        {
            Status = HealthVerdict.Combine(all),
            CheckedAt = now,
            Volume = volume.Section,
            Database = database.Section,
            Backups = backups.Section with { Offsite = offsiteCopies.Section, Replication = replicated.Section },
            Problems = [.. all.Select(f => f.Sentence)],
        };
    }
}
