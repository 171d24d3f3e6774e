using Emergence.Persistence.Tests.Support;

namespace Emergence.Functions.HostTests.Support;

/// <summary>The system's own tools (losetup, mkfs.ext4, nsenter, kill), through the test suites' shared <see cref="Shell"/>.</summary>
public static class Commands
{
    /// <summary>Runs a program and returns its output, or throws with its error output when it fails.</summary>
    public static string Check(string program, params string[] args)
    {
        var (exit, output, error) = Shell.Run(program, args);
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
    public static void Signal(int pid, string signal) => Shell.Run("kill", "-s", signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
