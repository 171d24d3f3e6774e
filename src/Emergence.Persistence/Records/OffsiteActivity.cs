
namespace Emergence.Persistence.Records;

/// <summary>
/// What off-volume copying and the restore drill last did, for the health report. Kept in memory and
/// in files in the backup directory, so <c>emergence-db status</c> beside the app reports the app's
/// uploads and drills too. Health reads these records and never calls the storage service.
/// </summary>
public sealed class OffsiteActivity
{
    /// <summary>The record of the last upload run to the Azure target (the first off-volume target there was), in the backup directory.</summary>
    public const string StateFileName = ".offsite-state.json";

    /// <summary>The kind of target whose record keeps <see cref="StateFileName"/>.</summary>
    public const string AzureKind = "azure";

    /// <summary>The record of the last restore drill, in the backup directory.</summary>
    public const string DrillFileName = ".last-drill.json";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, VolumeRecord<OffsiteState>> _states = new(StringComparer.Ordinal);

    private readonly VolumeRecord<DrillResult> _drill = new(DrillFileName,
        ex => new DrillResult(DateTimeOffset.MinValue, false, null, null, $"{DrillFileName} cannot be read: {ex.Message}", 0), d => d.At);

    /// <summary>The last upload run's outcome.</summary>
    /// <param name="LastUpload">The newest backup copied off the volume, and when.</param>
    /// <param name="Count">Complete backups in the container after the last successful run.</param>
    /// <param name="LastError">The last run's failure, until a run succeeds.</param>
    /// <param name="RecordedAt">When the run ended: of this process's record and the volume's, the later one counts.</param>
    public sealed record OffsiteState(UploadRecord? LastUpload, int? Count, BackupActivity.BackupError? LastError, DateTimeOffset RecordedAt);

    /// <summary>A backup copied off the volume.</summary>
    /// <param name="Name">The backup's name.</param>
    /// <param name="Timestamp">When the backup was taken.</param>
    /// <param name="At">When its upload finished.</param>
    public sealed record UploadRecord(string Name, DateTimeOffset Timestamp, DateTimeOffset At);

    /// <summary>
    /// The last upload run's outcome: the later of this process's record and the volume's (another process,
    /// such as <c>emergence-db backup</c> beside the app, may have run since); this process's alone when
    /// the volume could not take or give its record.
    /// </summary>
    public OffsiteState? StateFor(string backupDirectory, string target = AzureKind) => StateRecord(target).Latest(backupDirectory);

    /// <summary>The record of the upload runs to one kind of target.</summary>
    private VolumeRecord<OffsiteState> StateRecord(string target)
    {
        var file = StateFileNameFor(target);
        lock (_gate)
        {
            if (!_states.TryGetValue(file, out var record))
            {
                record = new VolumeRecord<OffsiteState>(file,
                    ex => new OffsiteState(null, null, new BackupActivity.BackupError(DateTimeOffset.MinValue, $"{file} cannot be read: {ex.Message}"), DateTimeOffset.MinValue), s => s.RecordedAt);
                _states[file] = record;
            }

            return record;
        }
    }

    /// <summary>The last drill's result: the later of this process's and the one recorded on the volume.</summary>
    public DrillResult? DrillFor(string backupDirectory) => _drill.Latest(backupDirectory);

    /// <summary>Records a successful run: the newest copy (or the previous one when nothing was new) and the count.</summary>
    public void RecordSuccess(string backupDirectory, UploadRecord? uploaded, int count, DateTimeOffset at, string target = AzureKind)
    {
        var previous = StateFor(backupDirectory, target);
        Record(backupDirectory, StateRecord(target), new OffsiteState(uploaded ?? previous?.LastUpload, count, null, at));
    }

    /// <summary>The record file of the upload runs to one kind of target: <see cref="StateFileName"/> for Azure, <c>.offsite-state.KIND.json</c> for another.</summary>
    public static string StateFileNameFor(string target) =>
        target == AzureKind ? StateFileName : $".offsite-state.{target}.json";

    /// <summary>Records a failed run, keeping the last successful upload.</summary>
    public void RecordFailure(string backupDirectory, UploadRecord? uploaded, DateTimeOffset at, string message, string target = AzureKind)
    {
        var previous = StateFor(backupDirectory, target);
        Record(backupDirectory, StateRecord(target), new OffsiteState(uploaded ?? previous?.LastUpload, previous?.Count, new BackupActivity.BackupError(at, message), at));
    }

    /// <summary>Records a drill's result.</summary>
    public void RecordDrill(string backupDirectory, DrillResult result) => Record(backupDirectory, _drill, result);

    private static void Record<T>(string backupDirectory, VolumeRecord<T> record, T value) where T : class
    {
        record.Remember(value);
        try
        {
            Directory.CreateDirectory(backupDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return; // A read-only volume cannot take the record; this process's health still has it.
        }

        record.Write(backupDirectory, value);
    }
}
