using System.Diagnostics;

namespace Emergence.Functions.HostTests.Support;

/// <summary>Runs the system's own tools (losetup, mkfs.ext4, nsenter, sqlite3) as separate processes.</summary>
public static class Commands
{
    /// <summary>Runs a program to its end and returns its exit code and output.</summary>
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

    /// <summary>Runs a program and returns its output, or throws with its error output when it fails.</summary>
    public static string Check(string program, params string[] args)
    {
        var (exit, output, error) = Run(program, args);
        if (exit != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {exit}: {error.Trim()}");
        }

        return output;
    }

    /// <summary>Whether a program is on PATH.</summary>
    public static bool Exists(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(System.IO.Path.Combine(directory, program)));

    /// <summary>Sends a signal to a process by its id (SIGTERM is what Railway sends first).</summary>
    public static void Signal(int pid, string signal) => Run("kill", "-s", signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
