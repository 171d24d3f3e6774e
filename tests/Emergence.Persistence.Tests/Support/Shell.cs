using System.Diagnostics;

namespace Emergence.Persistence.Tests.Support;

/// <summary>Runs the system's own tools (sqlite3, sha256sum, mount) as separate processes.</summary>
public static class Shell
{
    /// <summary>Runs a program and returns its exit code and output.</summary>
    public static (int Exit, string Output, string Error) Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }
}
