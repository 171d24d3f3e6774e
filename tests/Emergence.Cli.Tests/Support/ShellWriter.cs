using System.Diagnostics;

namespace Emergence.Cli.Tests.Support;

/// <summary>
/// A sqlite3 shell as the app's writer, reading statements from the test: each <see cref="CommitOne"/> sends the one
/// statement it was made with (one transaction). An independent writer, in another process, as the app is.
/// </summary>
internal sealed class ShellWriter : IDisposable
{
    private readonly Process _process;
    private readonly string _commit;

    public ShellWriter(string database, string commit)
    {
        _commit = commit;
        var info = new ProcessStartInfo("sqlite3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-batch");
        info.ArgumentList.Add(database);
        _process = Process.Start(info)!;
        _process.StandardInput.AutoFlush = true;
        _process.StandardInput.WriteLine(".timeout 10000");
    }

    /// <summary>Commits one more transaction.</summary>
    public void CommitOne() => _process.StandardInput.WriteLine(_commit);

    /// <summary>Closes the connection cleanly: the last connection's close checkpoints and deletes the <c>-wal</c>.</summary>
    public void Close()
    {
        _process.StandardInput.WriteLine(".quit");
        Assert.True(_process.WaitForExit(30_000), "the writer did not close");
    }

    /// <summary>SIGKILLs the shell mid-write.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }
}
