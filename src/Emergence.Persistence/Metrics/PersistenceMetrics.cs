using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Emergence.Persistence.Metrics;

/// <summary>
/// The project's instruments, on one <see cref="Meter"/> named <see cref="MeterName"/>. Counters and histograms
/// are recorded where the events happen, through the methods here; the gauges are observed from a
/// <see cref="MetricsReading"/> the host supplies with <see cref="ObserveWith"/> (the function app: its cached
/// health report), read at most once per collection. Names follow OpenTelemetry's conventions; the Prometheus
/// names (dots to underscores, the unit as a suffix, <c>_total</c> on counters) are in <c>docs/reference/metrics.md</c>.
/// </summary>
public sealed class PersistenceMetrics
{
    /// <summary>The meter's name: what an exporter subscribes to.</summary>
    public const string MeterName = "Emergence.Persistence";

    /// <summary>How long one reading serves the gauges, so a collection of all of them reads the source once.</summary>
    private static readonly TimeSpan ReadingReuse = TimeSpan.FromSeconds(1);

    /// <summary>Histogram buckets for durations, in seconds: a tenth of a second to an hour.</summary>
    private static readonly InstrumentAdvice<double> DurationBuckets = new() { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] };

    private readonly TimeProvider _time;
    private readonly Counter<long> _backups;
    private readonly Histogram<double> _backupDuration;
    private readonly Counter<long> _segments;
    private readonly Counter<long> _segmentBytes;
    private readonly Counter<long> _levelFiles;
    private readonly Counter<long> _levelBytes;
    private readonly Counter<long> _generations;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _requestErrors;
    private readonly Counter<long> _sentBytes;
    private readonly Counter<long> _receivedBytes;
    private readonly Counter<long> _restores;
    private readonly Histogram<double> _restoreDuration;
    private readonly Counter<long> _drills;
    private readonly Histogram<double> _drillDuration;
    private readonly Counter<long> _proofs;
    private readonly Lock _gate = new();
    private Func<MetricsReading?> _source = () => null;
    private MetricsReading? _reading;
    private long _readAt;
    private DateTimeOffset? _lastDrillSuccess;
    private double? _restoreWindowSeconds;

    /// <summary>Creates the meter through <paramref name="meterFactory"/> and its instruments.</summary>
    public PersistenceMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _time = time;
        var meter = meterFactory.Create(MeterName);

        _backups = meter.CreateCounter<long>("emergence.backups", "{backup}", "Backup attempts, by result: ok, unchanged, failed, busy, cancelled.");
        _backupDuration = meter.CreateHistogram<double>("emergence.backup.duration", "s", "How long a backup attempt took, lock wait included, by result.", tags: null, advice: DurationBuckets);
        meter.CreateObservableGauge("emergence.backup.last_success.timestamp", () => Gauge(r => Seconds(r.LastBackupAt)), "s", "When the newest verified backup was taken (Unix time).");
        meter.CreateObservableGauge("emergence.backup.size", () => Gauge(r => r.LastBackupBytes), "By", "The newest verified backup's size.");
        meter.CreateObservableGauge("emergence.backups.kept", () => Gauge(r => r.BackupCount), "{backup}", "Verified backups in the backup directory.");

        meter.CreateObservableGauge("emergence.replication.lag", () => Gauge(r => Lag(r.ReplicatedTo)), "s", "Now minus the time up to which every commit is in a durable segment.");
        meter.CreateObservableGauge("emergence.offsite.lag", OffsiteLag, "s", "Now minus the time up to which every closed segment is in the off-volume target, by target.");
        meter.CreateObservableGauge("emergence.replication.wal.size", () => Gauge(r => r.WalBytes), "By", "The -wal file's size at the replicator's last poll.");
        _segments = meter.CreateCounter<long>("emergence.replication.segments", "{segment}", "WAL segments written to the volume.");
        _segmentBytes = meter.CreateCounter<long>("emergence.replication.written", "By", "Bytes of WAL segments written to the volume (compressed, as stored).");
        _levelFiles = meter.CreateCounter<long>("emergence.replication.level_files", "{file}", "History level files written by merging closed history files, by level.");
        _levelBytes = meter.CreateCounter<long>("emergence.replication.level_written", "By", "Bytes of history level files written (compressed), by level.");
        _generations = meter.CreateCounter<long>("emergence.replication.generations", "{generation}", "Replication generations started, by reason.");

        _requests = meter.CreateCounter<long>("emergence.offsite.requests", "{request}", "Requests sent to an off-volume target (every attempt, retries included), by target and operation.");
        _requestErrors = meter.CreateCounter<long>("emergence.offsite.errors", "{request}", "Off-volume requests that failed (an error status or no response), by target and operation.");
        _sentBytes = meter.CreateCounter<long>("emergence.offsite.sent", "By", "Request body bytes sent to an off-volume target, by target.");
        _receivedBytes = meter.CreateCounter<long>("emergence.offsite.received", "By", "Response body bytes announced by an off-volume target, by target.");

        _restores = meter.CreateCounter<long>("emergence.restores", "{restore}", "Restores, by source and result.");
        _restoreDuration = meter.CreateHistogram<double>("emergence.restore.duration", "s", "How long a restore took, by source and result.", tags: null, advice: DurationBuckets);
        _drills = meter.CreateCounter<long>("emergence.drills", "{drill}", "Restore drills, by result.");
        _drillDuration = meter.CreateHistogram<double>("emergence.drill.duration", "s", "How long a restore drill took, by result.", tags: null, advice: DurationBuckets);
        meter.CreateObservableGauge("emergence.drill.last_success.timestamp", () => Gauge(r => Seconds(Later(r.LastDrillSuccessAt, LastDrillSuccess))), "s", "When the last restore drill that passed ran (Unix time).");
        _proofs = meter.CreateCounter<long>("emergence.restore.proofs", "{proof}", "Content proofs of restored history, by result: passed or failed.");

        meter.CreateObservableGauge("emergence.volume.free", () => Gauge(r => r.VolumeFreeBytes), "By", "Bytes available on the database's volume.");
        meter.CreateObservableGauge("emergence.database.size", () => Gauge(r => r.DatabaseBytes), "By", "The database's size on disk: the file and its -wal.");
        meter.CreateObservableGauge("emergence.restore.window", RestoreWindow, "s", "How far back a restore to a point in time can go from the newest durable commit.");
        meter.CreateObservableGauge("emergence.health.status", () => Gauge(r => r.Status), "{status}", "The health verdict: 0 healthy, 1 degraded, 2 unhealthy.");
    }

    /// <summary>The name of an Azure Blob container as the <c>target</c> attribute.</summary>
    public static string AzureTarget(string container) => $"azure:{container}";

    /// <summary>The name of an S3 bucket (with its key prefix, if any) as the <c>target</c> attribute.</summary>
    public static string S3Target(string bucket) => $"s3:{bucket}";

    /// <summary>
    /// The <c>target</c> attribute of what is off the volume as a whole (the off-volume lag): the one target's name, or
    /// both joined by <c>+</c>; <see langword="null"/> when there is none.
    /// </summary>
    public static string? Targets(string? azureContainer, string? s3Bucket) =>
        string.Join("+", new[] { azureContainer is null ? null : AzureTarget(azureContainer), s3Bucket is null ? null : S3Target(s3Bucket) }.OfType<string>()) is { Length: > 0 } joined ? joined : null;

    /// <summary>Sets where the gauges read their state; called once by the host (the function app: its health cache).</summary>
    public void ObserveWith(Func<MetricsReading?> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_gate)
        {
            _source = source;
            _reading = null;
        }
    }

    /// <summary>A backup attempt ended with <paramref name="result"/> (one of <see cref="MetricResults"/>) after <paramref name="duration"/>.</summary>
    public void BackupCompleted(string result, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("result", result);
        _backups.Add(1, tag);
        _backupDuration.Record(duration.TotalSeconds, tag);
    }

    /// <summary>The replicator wrote a segment of <paramref name="bytes"/> bytes to the volume.</summary>
    public void SegmentWritten(long bytes)
    {
        _segments.Add(1);
        _segmentBytes.Add(bytes);
    }

    /// <summary>A level file of <paramref name="level"/> and <paramref name="bytes"/> bytes was written.</summary>
    public void LevelFileWritten(int level, long bytes)
    {
        var tag = new KeyValuePair<string, object?>("level", level);
        _levelFiles.Add(1, tag);
        _levelBytes.Add(bytes, tag);
    }

    /// <summary>The replicator started a generation, for <paramref name="reason"/> (a short lowercase word).</summary>
    public void GenerationStarted(string reason) => _generations.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>One request went to the off-volume <paramref name="target"/>: its operation, body bytes each way, and whether it failed.</summary>
    public void OffsiteRequest(string target, string operation, long sentBytes, long receivedBytes, bool failed)
    {
        var tags = new TagList { { "target", target }, { "operation", operation } };
        _requests.Add(1, tags);
        if (failed)
        {
            _requestErrors.Add(1, tags);
        }

        var targetTag = new KeyValuePair<string, object?>("target", target);
        _sentBytes.Add(sentBytes, targetTag);
        _receivedBytes.Add(receivedBytes, targetTag);
    }

    /// <summary>A restore from <paramref name="source"/> (local, offsite, point) ended with <paramref name="result"/> after <paramref name="duration"/>.</summary>
    public void RestoreCompleted(string source, string result, TimeSpan duration)
    {
        var tags = new TagList { { "source", source }, { "result", result } };
        _restores.Add(1, tags);
        _restoreDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>A restore drill ran at <paramref name="at"/> for <paramref name="duration"/> and passed or not.</summary>
    public void DrillCompleted(bool ok, DateTimeOffset at, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("result", ok ? MetricResults.Ok : MetricResults.Failed);
        _drills.Add(1, tag);
        _drillDuration.Record(duration.TotalSeconds, tag);
        if (ok)
        {
            lock (_gate)
            {
                _lastDrillSuccess = Later(_lastDrillSuccess, at);
            }
        }
    }

    /// <summary>A content proof of restored history passed or failed.</summary>
    public void ProofChecked(bool passed) => _proofs.Add(1, new KeyValuePair<string, object?>("result", passed ? "passed" : "failed"));

    /// <summary>The restore window now reaches <paramref name="length"/> back from the newest durable commit.</summary>
    public void RestoreWindowMeasured(TimeSpan length)
    {
        lock (_gate)
        {
            _restoreWindowSeconds = length.TotalSeconds;
        }
    }

    private DateTimeOffset? LastDrillSuccess
    {
        get
        {
            lock (_gate)
            {
                return _lastDrillSuccess;
            }
        }
    }

    private IEnumerable<Measurement<double>> RestoreWindow()
    {
        lock (_gate)
        {
            return _restoreWindowSeconds is { } seconds ? [new Measurement<double>(seconds)] : [];
        }
    }

    private IEnumerable<Measurement<double>> OffsiteLag()
    {
        var reading = Reading();
        return reading is { OffsiteTarget: { } target } && Lag(reading.OffsiteReplicatedTo) is { } lag
            ? [new Measurement<double>(lag, new KeyValuePair<string, object?>("target", target))]
            : [];
    }

    private IEnumerable<Measurement<double>> Gauge(Func<MetricsReading, double?> pick) =>
        Reading() is { } reading && pick(reading) is { } value ? [new Measurement<double>(value)] : [];

    /// <summary>The source's reading, reused for <see cref="ReadingReuse"/> so one collection reads it once.</summary>
    private MetricsReading? Reading()
    {
        Func<MetricsReading?> source;
        lock (_gate)
        {
            if (_reading is { } recent && _time.GetElapsedTime(_readAt) < ReadingReuse)
            {
                return recent;
            }

            source = _source;
        }

        var reading = source();
        lock (_gate)
        {
            _reading = reading;
            _readAt = _time.GetTimestamp();
        }

        return reading;
    }

    private double? Lag(DateTimeOffset? upTo) => upTo is { } at ? Math.Max(0, (_time.GetUtcNow() - at).TotalSeconds) : null;

    private static double? Seconds(DateTimeOffset? at) => at?.ToUnixTimeMilliseconds() / 1000.0;

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
}
