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
/// <param name="fileName">The record's file name in its directory.</param>
/// <param name="unreadable">What a file that cannot be read or parsed reads as.</param>
/// <param name="recordedAt">The record's own time, or <see langword="null"/> when this process's copy always wins.</param>
internal sealed class VolumeRecord<T>(string fileName, Func<Exception, T?> unreadable, Func<T, DateTimeOffset>? recordedAt = null) where T : class
{
    private readonly Lock _gate = new();
    private T? _own;

    /// <summary>The record's file name in its directory.</summary>
    public string FileName { get; } = fileName;

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
    public T? Read(string directory) => VolumeRecord.Read(directory, FileName, ex => unreadable(ex)!);

    /// <summary>The later of this process's copy and the volume's.</summary>
    public T? Latest(string directory)
    {
        var own = Own;
        if (own is not null && recordedAt is null)
        {
            return own;
        }

        var recorded = Read(directory);
        return own is not null && (recorded is null || recordedAt!(own) >= recordedAt(recorded)) ? own : recorded;
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

    /// <summary>Forgets this process's copy and deletes the file.</summary>
    public void Clear(string directory)
    {
        Remember(null);
        File.Delete(Path.Combine(directory, FileName));
    }
}
