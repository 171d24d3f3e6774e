namespace Emergence.Persistence.Records;

/// <summary>
/// The one shape of a record kept on the volume: a data type <typeparamref name="T"/> and this store of it, built on
/// <see cref="VolumeRecord"/>. The store knows the record's file, reads it (absent: <see langword="null"/>;
/// unreadable: the value <c>unreadable</c> makes of the error), writes it durably and best effort (a read-only or full
/// volume cannot take it), and keeps this process's own copy, so a volume that cannot take the file still shows in
/// this process's reports. <see cref="Latest"/> is the rule every record follows: the later of this process's copy
/// and the volume's (by the record's own time, this process's on a tie), or this process's when the record has no time.
/// </summary>
/// <typeparam name="T">The record.</typeparam>
internal sealed class VolumeRecord<T> where T : class
{
    private readonly Lock _gate = new();
    private readonly Func<string, Exception, T?> _unreadable;
    private readonly Func<T, DateTimeOffset>? _recordedAt;
    private readonly bool _emptyIsUnreadable;
    private T? _own;

    /// <summary>A record whose unreadable file reads as <paramref name="unreadable"/>'s value, and a file holding JSON <c>null</c> as none.</summary>
    /// <param name="fileName">The record's file name in its directory.</param>
    /// <param name="unreadable">What a file that cannot be read or parsed reads as.</param>
    /// <param name="recordedAt">The record's own time, or <see langword="null"/> when this process's copy always wins.</param>
    public VolumeRecord(string fileName, Func<Exception, T?> unreadable, Func<T, DateTimeOffset>? recordedAt = null)
        : this(fileName, (_, ex) => unreadable(ex), recordedAt, emptyIsUnreadable: false)
    {
    }

    /// <summary>A record whose unreadable file reads as <paramref name="unreadable"/>'s value for that file's path.</summary>
    /// <param name="fileName">The record's file name in its directory.</param>
    /// <param name="unreadable">What a file (its path) that cannot be read or parsed reads as.</param>
    /// <param name="recordedAt">The record's own time, or <see langword="null"/> when this process's copy always wins.</param>
    /// <param name="emptyIsUnreadable">Whether a file holding the JSON <c>null</c> reads as unreadable ("the file is empty") rather than as none.</param>
    public VolumeRecord(string fileName, Func<string, Exception, T?> unreadable, Func<T, DateTimeOffset>? recordedAt, bool emptyIsUnreadable)
    {
        FileName = fileName;
        _unreadable = unreadable;
        _recordedAt = recordedAt;
        _emptyIsUnreadable = emptyIsUnreadable;
    }

    /// <summary>The record's file name in its directory.</summary>
    public string FileName { get; }

    /// <summary>This process's copy, or <see langword="null"/>.</summary>
    public T? Own
    {
        get
        {
            lock (_gate)
            {
                return _own;
            }
        }
    }

    /// <summary>The record in <paramref name="directory"/> as any process last wrote it.</summary>
    public T? Read(string directory) => VolumeRecord.Read(directory, FileName, ex => _unreadable(PathIn(directory), ex)!, _emptyIsUnreadable);

    /// <summary>The record's file in <paramref name="directory"/>.</summary>
    public string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>The later of this process's copy and the volume's.</summary>
    public T? Latest(string directory)
    {
        var own = Own;
        if (own is not null && _recordedAt is null)
        {
            return own;
        }

        var recorded = Read(directory);
        return own is not null && (recorded is null || _recordedAt!(own) >= _recordedAt(recorded)) ? own : recorded;
    }

    /// <summary>Keeps <paramref name="record"/> as this process's copy and writes it to <paramref name="directory"/>.</summary>
    public void Record(string directory, T record)
    {
        Remember(record);
        Write(directory, record);
    }

    /// <summary>Keeps <paramref name="record"/> as this process's copy only.</summary>
    public void Remember(T? record)
    {
        lock (_gate)
        {
            _own = record;
        }
    }

    /// <summary>Writes <paramref name="record"/> to <paramref name="directory"/> (best effort).</summary>
    public void Write(string directory, T record) => VolumeRecord.TryWrite(directory, FileName, record);

    /// <summary>Writes <paramref name="record"/> to <paramref name="directory"/> durably, or throws: for a record that must not be lost.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory cannot be written.</exception>
    public void WriteOrThrow(string directory, T record) => VolumeRecord.Write(directory, FileName, record);

    /// <summary>Deletes the file, leaving this process's copy as it is.</summary>
    public void Delete(string directory) => File.Delete(PathIn(directory));

    /// <summary>Forgets this process's copy and deletes the file.</summary>
    public void Clear(string directory)
    {
        Remember(null);
        Delete(directory);
    }
}
