using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Emergence.Bench;

/// <summary>
/// Splits a commit's time, for the thread that made it, into time on a processor, time runnable but waiting for one,
/// and the rest: asleep in the kernel, on the disk (SQLite's <c>fsync</c>) or on a lock. Read from Linux's
/// <c>/proc/thread-self/schedstat</c> before and after each commit; where it cannot be read, nothing is recorded.
/// </summary>
internal sealed class CommitTimes : IDisposable
{
    private readonly SafeFileHandle? _schedstat;
    private readonly byte[] _buffer = new byte[128];
    private readonly List<Split> _splits;

    /// <summary>Opens the calling thread's scheduler counters, to add each commit to <paramref name="splits"/>: create it on the thread that commits.</summary>
    public CommitTimes(List<Split> splits)
    {
        _splits = splits;
        try
        {
            _schedstat = File.OpenHandle("/proc/thread-self/schedstat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _schedstat = null;
        }
    }

    /// <summary>One commit's time, in milliseconds.</summary>
    public readonly record struct Split(double Total, double OnCpu, double WaitingForCpu)
    {
        /// <summary>Neither on a processor nor waiting for one: the disk, a lock, a sleep.</summary>
        public double Blocked => Math.Max(0, Total - OnCpu - WaitingForCpu);
    }

    /// <summary>The thread's time on a processor and waiting for one so far, in nanoseconds; zeros when unreadable.</summary>
    public (long OnCpu, long Waiting) Now()
    {
        if (_schedstat is null)
        {
            return (0, 0);
        }

        var read = RandomAccess.Read(_schedstat, _buffer, 0);
        return Parse(System.Text.Encoding.ASCII.GetString(_buffer, 0, read)) ?? (0, 0);
    }

    /// <summary>A <c>schedstat</c> file's first two fields: nanoseconds on a processor and runnable but waiting for one; <see langword="null"/> when they are not there.</summary>
    public static (long OnCpu, long Waiting)? Parse(string schedstat)
    {
        var fields = schedstat.Split(' ');
        return fields.Length >= 2
            && long.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var onCpu)
            && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var waiting)
            ? (onCpu, waiting)
            : null;
    }

    /// <summary>Adds a commit that took <paramref name="milliseconds"/> since <paramref name="before"/> was read.</summary>
    public void Add(double milliseconds, (long OnCpu, long Waiting) before)
    {
        if (_schedstat is not null)
        {
            var after = Now();
            _splits.Add(new Split(milliseconds, (after.OnCpu - before.OnCpu) / 1e6, (after.Waiting - before.Waiting) / 1e6));
        }
    }

    /// <summary>
    /// A table row for one side: of its commits slower than <paramref name="slow"/>, how many spent most of their time
    /// waiting for a processor, on one, or blocked, and the mean of each part.
    /// </summary>
    public static string Describe(string side, List<Split> splits, double slow, CultureInfo inv)
    {
        var slowOnes = splits.Where(s => s.Total > slow).ToList();
        if (slowOnes.Count == 0)
        {
            return $"| {side} | 0 | | | | |";
        }

        var waiting = slowOnes.Count(s => s.WaitingForCpu >= Math.Max(s.OnCpu, s.Blocked));
        var onCpu = slowOnes.Count(s => s.OnCpu > s.WaitingForCpu && s.OnCpu >= s.Blocked);
        var blocked = slowOnes.Count - waiting - onCpu;
        return string.Create(inv, $"| {side} | {slowOnes.Count} | {blocked} | {waiting} | {onCpu} | {slowOnes.Average(s => s.Total):0.00} = {slowOnes.Average(s => s.Blocked):0.00} + {slowOnes.Average(s => s.WaitingForCpu):0.00} + {slowOnes.Average(s => s.OnCpu):0.00} ms |");
    }

    public void Dispose() => _schedstat?.Dispose();
}
