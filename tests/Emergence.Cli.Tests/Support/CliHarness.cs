using System.Diagnostics;
using Emergence.Persistence.Platform;
using Microsoft.Extensions.Time.Testing;

namespace Emergence.Cli.Tests.Support;

/// <summary>Runs <c>emergence-db</c> in-process against a per-test temp directory and captures its output.</summary>
public sealed class CliHarness : IDisposable
{
    public CliHarness()
    {
        Root = Directory.CreateTempSubdirectory("emergence-cli-").FullName;
        Settings = new Dictionary<string, string?>
        {
            ["Persistence__DatabasePath"] = Path.Combine(Root, "data", "database.sqlite"),
            ["Persistence__FallbackDirectory"] = Path.Combine(Root, "fallback"),
            ["Persistence__LockTimeoutSeconds"] = "2",
        };
    }

    public string Root { get; }

    public Dictionary<string, string?> Settings { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 14, 10, 30, 0, TimeSpan.Zero));

    public string DatabasePath => Settings["Persistence__DatabasePath"]!;

    public string BackupDirectory => Path.Combine(Path.GetDirectoryName(DatabasePath)!, "backups");

    public async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var environment = new CliEnvironment(Settings, new SystemProbe(), Interactive: false, Time);
        var exit = await CliApp.RunAsync(args, output, error, environment, TestContext.Current.CancellationToken);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs the built <c>emergence-db</c> as a separate process, with the harness's settings in its environment.</summary>
    public (int Exit, string Out, string Err) RunProcess(params string[] args)
    {
        using var process = StartProcess(args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }

    /// <summary>Starts the built <c>emergence-db</c> as a separate process (stdout and stderr redirected) and returns it running.</summary>
    public Process StartProcess(params string[] args) => StartProcessWith(new Dictionary<string, string?>(), args);

    /// <summary>Starts the built <c>emergence-db</c> as <see cref="StartProcess"/> does, with <paramref name="environment"/> added to the harness's settings.</summary>
    public Process StartProcessWith(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "emergence-db.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in Settings.Concat(environment))
        {
            info.Environment[key] = value;
        }

        return Process.Start(info)!;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
