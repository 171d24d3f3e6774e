using System.Diagnostics;
using System.Globalization;
using Emergence.Persistence.Database;

namespace Emergence.Bench;

/// <summary>The backups in the page cache: how much of each is there (<c>fincore</c>), and dropping them from it.</summary>
internal static class PageCache
{
    private static readonly string[] FincoreOptions = ["--bytes", "--noheadings", "--raw", "--output", "RES,SIZE,FILE"];

    /// <summary>The share of each backup file in the page cache now (<c>fincore</c>), by file name.</summary>
    public static Dictionary<string, double> Shares(DatabaseLocation location)
    {
        var backups = Directory.GetFiles(location.BackupDirectory, "*.sqlite");
        var info = new ProcessStartInfo("fincore") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in FincoreOptions.Concat(backups))
        {
            info.ArgumentList.Add(argument);
        }

        var shares = new Dictionary<string, double>();
        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            foreach (var row in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var fields = row.Split(' ', 3);
                if (fields.Length == 3 && long.TryParse(fields[0], inv(), out var resident) && long.TryParse(fields[1], inv(), out var size) && size > 0)
                {
                    shares[Path.GetFileName(fields[2])] = resident / (double)size;
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No fincore here: the breakdown says nothing of the cache.
        }

        return shares;

        static IFormatProvider inv() => CultureInfo.InvariantCulture;
    }

    /// <summary>
    /// Times <paramref name="run"/> with the page cache made fair: cold, after every backup is evicted; warm, after the
    /// same run once untimed (its base in the cache, as the newest backup a plain restore reads is).
    /// </summary>
    public static double Fair(DatabaseLocation location, bool cold, Func<double> run)
    {
        if (cold)
        {
            Evict(location);
        }
        else
        {
            run();
        }

        return run();
    }

    /// <summary>Drops every backup's pages from the page cache (<c>dd iflag=nocache</c>: clean pages go, as the kernel allows).</summary>
    public static void Evict(DatabaseLocation location)
    {
        Shell.Time("sync");
        foreach (var backup in Directory.GetFiles(location.BackupDirectory, "*.sqlite"))
        {
            Shell.Time("dd", $"if={backup}", "iflag=nocache", "count=0", "status=none");
        }
    }
}
