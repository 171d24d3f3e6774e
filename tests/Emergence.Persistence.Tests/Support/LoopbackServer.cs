using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Emergence.Persistence.Tests.Support;

/// <summary>What the test servers started from npm (Azurite, s3rver) share: finding one, starting it and waiting for its port, killing it, removing its data.</summary>
internal static class LoopbackServer
{
    /// <summary>
    /// <paramref name="executable"/>, when <c>npm ci</c> installed it. Otherwise skips the test, except under CI=true,
    /// where the suite must not silently lose its storage tests: fails instead.
    /// </summary>
    public static string Installed(string name, string executable)
    {
        if (!File.Exists(executable))
        {
            var why = $"{name} is not installed ({executable} is missing): run 'npm ci' in the repository.";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(why + " CI must run the storage tests.");
            }

            Assert.Skip(why);
        }

        return executable;
    }

    /// <summary>Starts <paramref name="executable"/> with <paramref name="arguments"/> and waits (30 s at most) until it accepts connections on <paramref name="port"/>.</summary>
    public static Process Start(string name, string executable, IEnumerable<string> arguments, int port)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with code {process.ExitCode} before listening on {port}.");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return process;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        Kill(process);
        throw new TimeoutException($"{name} did not listen on 127.0.0.1:{port} within 30 s.");
    }

    /// <summary>Kills the server (SIGKILL) and waits for it: requests in flight fail, later connections are refused.</summary>
    public static void Kill(Process? process)
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process?.Dispose();
    }

    /// <summary>Removes a server's data directory (left for the OS temp cleaner when it cannot be).</summary>
    public static void DeleteData(string location)
    {
        try
        {
            Directory.Delete(location, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }
}
