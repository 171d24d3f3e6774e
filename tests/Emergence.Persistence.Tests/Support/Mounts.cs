namespace Emergence.Persistence.Tests.Support;

/// <summary>A real mount (tmpfs) for a fault test, unmounted on dispose.</summary>
public sealed class TmpfsMount : IDisposable
{
    public TmpfsMount(string path, string size)
    {
        Path = path;
        Directory.CreateDirectory(path);
        var (exit, _, error) = Shell.Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        if (exit != 0)
        {
            throw new InvalidOperationException($"mount tmpfs on {path} failed: {error}");
        }
    }

    public string Path { get; }

    public void Remount(string options)
    {
        var (exit, _, error) = Shell.Run("mount", "-o", $"remount,{options}", Path);
        if (exit != 0)
        {
            throw new InvalidOperationException($"remount {options} of {Path} failed: {error}");
        }
    }

    public void Dispose() => Shell.Run("umount", "-l", Path);
}
