using System.Diagnostics;
using System.Text.Json;
using Emergence.Functions.Tests.Support;

namespace Emergence.Functions.Tests.Railway;

/// <summary>
/// Evaluates a <c>.railway/railway.ts</c> with the SDK pinned in package.json (through tsx, as the
/// tests install it with npm ci), returning the graph and the SDK's own validation errors.
/// </summary>
public static class RailwayIac
{
    public static string Tsx => RepositoryFiles.Path("node_modules/.bin/tsx");

    /// <summary>Skips when the pinned SDK is not installed; fails under CI=true, where scripts/test.sh installs it.</summary>
    public static void RequireSdk()
    {
        if (File.Exists(Tsx) && Directory.Exists(RepositoryFiles.Path("node_modules/railway")))
        {
            return;
        }

        const string why = "the Railway SDK and tsx are not installed (npm ci installs them from package-lock.json)";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"Cannot check .railway/railway.ts: {why}.");
        }

        Assert.Skip($"Cannot check .railway/railway.ts: {why}.");
    }

    /// <summary>Runs Railway/evaluate.mts on the file and returns its {graph, errors}.</summary>
    public static JsonElement Evaluate(string railwayTs)
    {
        var info = new ProcessStartInfo(Tsx)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryFiles.Root,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Railway", "evaluate.mts"));
        info.ArgumentList.Add(railwayTs);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"evaluating {railwayTs} failed ({process.ExitCode}): {error}");
        using var document = JsonDocument.Parse(output.Result);
        return document.RootElement.Clone();
    }
}
