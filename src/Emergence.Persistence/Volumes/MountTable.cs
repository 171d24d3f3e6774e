using System.Text;

namespace Emergence.Persistence.Volumes;

/// <summary>
/// The parsed mount table of the process. No public .NET API returns the mount point that holds a
/// path, so it is found here by the longest mount-point prefix, as the kernel resolves it.
/// </summary>
public sealed class MountTable
{
    private readonly IReadOnlyList<MountEntry> _entries;

    private MountTable(IReadOnlyList<MountEntry> entries) => _entries = entries;

    /// <summary>All mounts, in the order the kernel listed them (later mounts shadow earlier ones).</summary>
    public IReadOnlyList<MountEntry> Entries => _entries;

    /// <summary>Parses the text of <c>/proc/self/mountinfo</c>; malformed lines are skipped.</summary>
    public static MountTable Parse(string? mountInfo)
    {
        var entries = new List<MountEntry>();
        if (string.IsNullOrEmpty(mountInfo))
        {
            return new MountTable(entries);
        }

        foreach (var line in mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // id parent major:minor root mount-point options [optional fields...] - fstype source super-options
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 6 || separator < 6 || separator + 3 > fields.Length)
            {
                continue;
            }

            var mountOptions = fields[5].Split(',');
            var superOptions = separator + 3 < fields.Length ? fields[separator + 3].Split(',') : [];
            var readOnly = mountOptions.Contains("ro") || superOptions.Contains("ro");
            entries.Add(new MountEntry(Unescape(fields[4]), fields[separator + 1], Unescape(fields[separator + 2]), readOnly));
        }

        return new MountTable(entries);
    }

    /// <summary>
    /// Returns the mount that holds <paramref name="absolutePath"/>: the entry with the longest mount
    /// point that is a path prefix of it (the last listed wins a tie, as it shadows the others).
    /// </summary>
    public MountEntry? FindMountFor(string absolutePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(absolutePath);
        MountEntry? best = null;
        foreach (var entry in _entries)
        {
            if (IsUnder(absolutePath, entry.MountPoint) && (best is null || entry.MountPoint.Length >= best.MountPoint.Length))
            {
                best = entry;
            }
        }

        return best;
    }

    private static bool IsUnder(string path, string mountPoint)
    {
        if (mountPoint == "/")
        {
            return path.StartsWith('/');
        }

        return path.Equals(mountPoint, StringComparison.Ordinal)
            || (path.StartsWith(mountPoint, StringComparison.Ordinal) && path[mountPoint.Length] == '/');
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var builder = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                builder.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                builder.Append(field[i]);
            }
        }

        return builder.ToString();
    }

    private static bool IsOctal(string text, int start) =>
        start + 3 <= text.Length && text.AsSpan(start, 3).IndexOfAnyExceptInRange('0', '7') < 0;
}
