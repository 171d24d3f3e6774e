using System.Diagnostics;

namespace Emergence.Bench;

/// <summary>Runs a command and returns how long it took; a non-zero exit is an error.</summary>
public static class Shell
{
    public static double Time(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        watch.Stop();
        return process.ExitCode == 0 ? watch.Elapsed.TotalSeconds : throw new InvalidOperationException($"{program} exited {process.ExitCode}: {error}");
    }
}
