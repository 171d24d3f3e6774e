using Tomlyn;
using Tomlyn.Model;

namespace Emergence.Functions.HostTests.Support;

/// <summary>The deploy settings Railway applies, read from <c>railway.toml</c>: how long the healthcheck may take, how long a stop may drain.</summary>
public static class RailwayDeploy
{
    private static readonly TomlTable Deploy = (TomlTable)TomlSerializer.Deserialize<TomlTable>(
        File.ReadAllText(Repository.Path("railway.toml")), (TomlSerializerOptions?)null)!["deploy"];

    public static string HealthcheckPath => (string)Deploy["healthcheckPath"];

    public static TimeSpan HealthcheckTimeout => TimeSpan.FromSeconds((long)Deploy["healthcheckTimeout"]);

    public static TimeSpan DrainingTime => TimeSpan.FromSeconds((long)Deploy["drainingSeconds"]);
}
