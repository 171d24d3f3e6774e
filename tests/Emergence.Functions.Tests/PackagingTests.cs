using System.Text.Json;
using Emergence.Functions.Tests.Support;
using Tomlyn;
using Tomlyn.Model;

namespace Emergence.Functions.Tests;

public sealed class PackagingTests
{
    private static readonly TomlTable Railway = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(RepositoryFiles.Path("railway.toml")), (TomlSerializerOptions?)null)!;
    private static readonly string[] DockerLines = File.ReadAllLines(RepositoryFiles.Path("Dockerfile"));

    private static TomlTable Table(string name) => (TomlTable)Railway[name];

    [Fact]
    public void RailwayToml_BuildsTheDockerfile()
    {
        Assert.Equal("DOCKERFILE", Table("build")["builder"]);
        Assert.Equal("Dockerfile", Table("build")["dockerfilePath"]);
    }

    [Fact]
    public void RailwayToml_ChecksHealthRestartsOnFailureAndDrainsForTheLock()
    {
        var deploy = Table("deploy");

        Assert.Equal("/api/health", deploy["healthcheckPath"]);
        Assert.True((long)deploy["healthcheckTimeout"] >= 300);
        Assert.Equal("ON_FAILURE", deploy["restartPolicyType"]);
        Assert.True((long)deploy["drainingSeconds"] > 0);
    }

    [Fact]
    public void Repository_HasNoSecondRailwayConfig()
    {
        Assert.False(File.Exists(RepositoryFiles.Path("railway.json")));
    }

    [Fact]
    public void Dockerfile_BuildsWithTheSdkAndRunsOnTheOfficialIsolatedImage()
    {
        var froms = DockerLines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();

        Assert.Equal(2, froms.Count);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 ", froms[0], StringComparison.Ordinal);
        Assert.Equal("FROM mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0", froms[1]);
    }

    [Fact]
    public void Dockerfile_PublishesTheAppToWwwrootAndTheCliOntoThePath()
    {
        var text = string.Join('\n', DockerLines);

        Assert.Contains("--output /home/site/wwwroot", text, StringComparison.Ordinal);
        Assert.Contains("src/Emergence.Functions/Emergence.Functions.csproj", text, StringComparison.Ordinal);
        Assert.Contains("src/Emergence.Cli/Emergence.Cli.csproj", text, StringComparison.Ordinal);
        Assert.Contains("COPY deploy/emergence-db /usr/local/bin/emergence-db", text, StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsScriptRoot=/home/site/wwwroot", text, StringComparison.Ordinal);
        Assert.Contains("AzureFunctionsJobHost__Logging__Console__IsEnabled=true", text, StringComparison.Ordinal);
        Assert.Contains("Persistence__DatabasePath=/app/data/database.sqlite", text, StringComparison.Ordinal);
        Assert.Contains("Persistence__RequireVolume=true", text, StringComparison.Ordinal);
        Assert.Contains("BACKUP_SCHEDULE=\"0 0 * * * *\"", text, StringComparison.Ordinal);
        Assert.True(File.Exists(RepositoryFiles.Path("deploy/emergence-db")));
    }

    [Fact]
    public void Dockerfile_HasNoVolumeLine()
    {
        Assert.DoesNotContain(DockerLines, l => l.TrimStart().StartsWith("VOLUME", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Dockerfile_ListensOnRailwaysPort()
    {
        var start = File.ReadAllText(RepositoryFiles.Path("deploy/start.sh"));

        Assert.Contains("CMD [\"/opt/emergence/start.sh\"]", DockerLines);
        Assert.Contains("ASPNETCORE_URLS=\"http://+:${PORT:-80}\"", start, StringComparison.Ordinal);
        Assert.Contains("exec /opt/startup/start_nonappservice.sh", start, StringComparison.Ordinal);
        Assert.DoesNotContain("FUNCTIONS_HTTPWORKER_PORT", string.Join('\n', DockerLines), StringComparison.Ordinal);
    }

    [Fact]
    public void LocalSettingsSample_NamesTheWorkerRuntimeStorageScheduleAndPersistenceSettings()
    {
        var values = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.Path("local.settings.sample.json"))).RootElement.GetProperty("Values");

        Assert.Equal("dotnet-isolated", values.GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
        Assert.Equal("UseDevelopmentStorage=true", values.GetProperty("AzureWebJobsStorage").GetString());
        Assert.Equal("0 0 * * * *", values.GetProperty("BACKUP_SCHEDULE").GetString());
        foreach (var setting in new[] { "DatabasePath", "BackupDirectory", "KeepBackups", "RequireVolume", "FallbackDirectory" })
        {
            Assert.True(values.TryGetProperty("Persistence__" + setting, out _), $"Persistence__{setting} missing");
        }
    }

    [Fact]
    public void GitIgnore_KeepsLocalSettingsOut()
    {
        Assert.Contains("local.settings.json", File.ReadAllLines(RepositoryFiles.Path(".gitignore")));
    }
}
