using Emergence.Persistence.Tests.Support;

namespace Emergence.Functions.HostTests.Support;

/// <summary>
/// Everything the rehearsal needs once per run: the app and the CLI published as the Dockerfile's
/// build stage publishes them, the image's description read from the Dockerfile, a Functions host,
/// and root (for mount, PID and UTS namespaces and a loop-mounted ext4 volume). When any is missing
/// the tests skip with the reason, and fail under <c>CI=true</c>, where all of them must run.
/// </summary>
public sealed class Rehearsal : IDisposable
{
    private static readonly string[] Tools = ["unshare", "nsenter", "chroot", "losetup", "mkfs.ext4", "sqlite3", "sha256sum"];

    private readonly string? _unavailable;

    public Rehearsal()
    {
        Image = DockerImage.Read(Repository.Path("Dockerfile"));
        WorkDirectory = Directory.CreateTempSubdirectory("emergence-rehearsal-").FullName;
        Host = FunctionsHost.Find(out var noHost);
        var missingTools = Tools.Where(tool => !Commands.Exists(tool)).ToList();
        _unavailable = Host is null ? noHost
            : !Environment.IsPrivilegedProcess ? "needs root to give each container its own mount, PID and UTS namespaces and an ext4 loop volume"
            : missingTools.Count > 0 ? "needs " + string.Join(", ", missingTools)
            : null;
        if (_unavailable is not null)
        {
            return;
        }

        // The Dockerfile's build stage publishes the app to /home/site/wwwroot and the CLI to /opt/emergence-db.
        Published = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["/home/site/wwwroot"] = Publish("src/Emergence.Functions/Emergence.Functions.csproj", "wwwroot"),
            ["/opt/emergence-db"] = Publish("src/Emergence.Cli/Emergence.Cli.csproj", "emergence-db"),
        };
        var unpublished = Image.StageCopies.Where(target => !Published.ContainsKey(target)).ToList();
        if (unpublished.Count > 0)
        {
            throw new InvalidOperationException("The Dockerfile copies build-stage output this rehearsal does not publish: " + string.Join(", ", unpublished));
        }
    }

    public DockerImage Image { get; }

    public FunctionsHost? Host { get; }

    /// <summary>Image path → the published folder that stands for it.</summary>
    public IReadOnlyDictionary<string, string> Published { get; } = new Dictionary<string, string>();

    /// <summary>This run's own temp directory: published output, volumes, container state.</summary>
    public string WorkDirectory { get; }

    /// <summary>Skips the calling test when the rehearsal cannot run here; under CI=true fails it instead.</summary>
    public void Require()
    {
        if (_unavailable is null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"The deploy rehearsal cannot run ({_unavailable}); CI has root and ../shared and must run it.");
        }

        Assert.Skip($"Deploy rehearsal skipped: {_unavailable}.");
    }

    /// <summary>A new directory under this run's temp directory.</summary>
    public string NewDirectory(string name) =>
        Directory.CreateDirectory(Path.Combine(WorkDirectory, $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)])).FullName;

    public void Dispose()
    {
        Container.KillAll();
        LoopVolume.DetachAll();
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A volume image still attached by a container being torn down; the temp dir is the system's to clean.
        }
    }

    private string Publish(string project, string name)
    {
        var output = Path.Combine(WorkDirectory, name);
        var (exit, stdout, stderr) = Shell.Run("dotnet", "publish", Repository.Path(project), "--configuration", "Release",
            "--output", output, "--nologo", "-v", "quiet");
        if (exit != 0)
        {
            throw new InvalidOperationException($"dotnet publish {project} failed ({exit}): {stdout}{stderr}");
        }

        return output;
    }
}
