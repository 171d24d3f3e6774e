using System.Text.Json;
using Emergence.Functions.Functions;
using Emergence.Functions.Tests.Support;
using Microsoft.Azure.Functions.Worker.Core.FunctionMetadata;

namespace Emergence.Functions.Tests.Functions;

public sealed class FunctionMetadataTests
{
    private static readonly Dictionary<string, JsonElement> Metadata = JsonDocument
        .Parse(File.ReadAllText(Path.Combine(RepositoryFiles.FunctionBuildOutput, "functions.metadata")))
        .RootElement.EnumerateArray()
        .ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("bindings")[0]);

    [Fact]
    public void FunctionsMetadata_ListsExactlyTheAppsFunctions()
    {
        Assert.Equal(["CreateBackup", "Health", "ListBackups", "Metrics", "MetricsAnonymous", "RestoreDrill", "ScheduledBackup"], Metadata.Keys.Order());
    }

    [Theory]
    [InlineData("Metrics", "Function", "metrics")]
    [InlineData("MetricsAnonymous", "Anonymous", "metrics/anonymous")]
    public void FunctionsMetadata_Metrics_AreGetsWithTheirLevels(string name, string level, string route)
    {
        var trigger = Metadata[name];

        Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(level, trigger.GetProperty("authLevel").GetString());
        Assert.Equal(route, trigger.GetProperty("route").GetString());
        Assert.Equal(["get"], trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public void FunctionsMetadata_Health_IsAnAnonymousGetOnHealth()
    {
        var trigger = Metadata["Health"];

        Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal("Anonymous", trigger.GetProperty("authLevel").GetString());
        Assert.Equal("health", trigger.GetProperty("route").GetString());
        Assert.Equal(["get"], trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public void FunctionsMetadata_Timer_RunsOnTheScheduleSettingWithoutTheStorageMonitor()
    {
        var trigger = Metadata["ScheduledBackup"];

        Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal("%BACKUP_SCHEDULE%", trigger.GetProperty("schedule").GetString());
        Assert.False(trigger.GetProperty("useMonitor").GetBoolean());
        Assert.False(trigger.TryGetProperty("runOnStartup", out var runOnStartup) && runOnStartup.GetBoolean());
    }

    [Fact]
    public void FunctionsMetadata_DrillTimer_RunsOnItsScheduleSettingWithoutTheStorageMonitor()
    {
        var trigger = Metadata["RestoreDrill"];

        Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal("%DRILL_SCHEDULE%", trigger.GetProperty("schedule").GetString());
        Assert.False(trigger.GetProperty("useMonitor").GetBoolean());
        Assert.False(trigger.TryGetProperty("runOnStartup", out var runOnStartup) && runOnStartup.GetBoolean());
    }

    [Fact]
    public void EveryScheduleSetting_HasADefaultInTheImageAndTheLocalSample()
    {
        // The host refuses to index a function whose %SETTING% does not resolve.
        var docker = File.ReadAllText(RepositoryFiles.Path("Dockerfile"));
        var sample = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.Path("local.settings.sample.json"))).RootElement.GetProperty("Values");
        var settings = Metadata.Values.Where(t => t.TryGetProperty("schedule", out _)).Select(t => t.GetProperty("schedule").GetString()!.Trim('%')).ToList();

        Assert.Equal(["BACKUP_SCHEDULE", "DRILL_SCHEDULE"], settings.Order());
        foreach (var setting in settings)
        {
            Assert.Matches($@"\b{setting}=""[^""]+""", docker);
            Assert.False(string.IsNullOrWhiteSpace(sample.GetProperty(setting).GetString()), $"{setting} is empty in local.settings.sample.json");
        }
    }

    [Theory]
    [InlineData("ListBackups", "get")]
    [InlineData("CreateBackup", "post")]
    public void FunctionsMetadata_AdminFunctions_NeedAFunctionKeyOnBackups(string name, string method)
    {
        var trigger = Metadata[name];

        Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal("Function", trigger.GetProperty("authLevel").GetString());
        Assert.Equal("backups", trigger.GetProperty("route").GetString());
        Assert.Equal([method], trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public void BuildOutput_CarriesHostJson()
    {
        var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryFiles.FunctionBuildOutput, "host.json"))).RootElement;

        Assert.Equal("2.0", hostJson.GetProperty("version").GetString());
        Assert.False(hostJson.TryGetProperty("extensionBundle", out _));
    }

    [Fact]
    public async Task GeneratedMetadataProvider_DescribesTheSameFunctionsTheHostWillIndex()
    {
        var providerType = typeof(HealthFunction).Assembly.GetTypes().Single(t => t.Name == "GeneratedFunctionMetadataProvider");
        var provider = (IFunctionMetadataProvider)Activator.CreateInstance(providerType, nonPublic: true)!;

        var functions = await provider.GetFunctionMetadataAsync(RepositoryFiles.FunctionBuildOutput);

        var byName = functions.ToDictionary(f => f.Name!, f => JsonDocument.Parse(f.RawBindings![0]).RootElement);
        Assert.Equal(Metadata.Keys.Order(), byName.Keys.Order());
        Assert.Equal("%BACKUP_SCHEDULE%", byName["ScheduledBackup"].GetProperty("schedule").GetString());
        Assert.False(byName["ScheduledBackup"].GetProperty("useMonitor").GetBoolean());
        Assert.Equal("%DRILL_SCHEDULE%", byName["RestoreDrill"].GetProperty("schedule").GetString());
        Assert.False(byName["RestoreDrill"].GetProperty("useMonitor").GetBoolean());
        Assert.Equal("health", byName["Health"].GetProperty("route").GetString());
        Assert.Equal("Anonymous", byName["Health"].GetProperty("authLevel").GetString());
    }
}
