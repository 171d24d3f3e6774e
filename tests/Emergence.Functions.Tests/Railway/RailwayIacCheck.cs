using System.Globalization;
using System.Text.Json;
using Emergence.Functions.HostTests.Support;
using Emergence.Functions.Tests.Support;
using Tomlyn;
using Tomlyn.Model;

namespace Emergence.Functions.Tests.Railway;

/// <summary>
/// What <c>.railway/railway.ts</c> must say, checked against the files the app actually runs with:
/// the health route from <c>functions.metadata</c>, the volume path and schedules from the
/// Dockerfile's ENV, and every key it shares with <c>railway.toml</c>. Each problem names the field.
/// </summary>
public static class RailwayIacCheck
{
    /// <summary>The Railway services' facts, as this repository's own files state them.</summary>
    public sealed record Facts(string HealthcheckPath, string MountPath, IReadOnlyDictionary<string, string> ImageEnvironment, TomlTable RailwayToml)
    {
        public static Facts FromRepository()
        {
            var health = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryFiles.FunctionBuildOutput, "functions.metadata")))
                .RootElement.EnumerateArray().Single(f => f.GetProperty("name").GetString() == "Health").GetProperty("bindings")[0];
            var image = DockerImage.Read(RepositoryFiles.Path("Dockerfile"));
            var toml = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(RepositoryFiles.Path("railway.toml")), (TomlSerializerOptions?)null)!;
            // host.json sets no routePrefix, so the host serves HTTP functions under /api.
            return new Facts("/api/" + health.GetProperty("route").GetString(),
                Path.GetDirectoryName(image.Environment["Persistence__DatabasePath"])!, image.Environment, toml);
        }
    }

    public static List<string> Problems(JsonElement evaluated, Facts facts)
    {
        var problems = evaluated.GetProperty("errors").EnumerateArray().Select(e => "validateGraph: " + e.GetString()).ToList();
        var resources = evaluated.GetProperty("graph").GetProperty("resources").EnumerateArray().ToList();
        var services = resources.Where(r => r.GetProperty("type").GetString() == "service").ToList();
        var volumes = resources.Where(r => r.GetProperty("type").GetString() == "volume").ToList();
        if (services.Count != 1)
        {
            problems.Add($"resources: expected one service (the function app), found {services.Count}");
            return problems;
        }

        var service = services[0];
        var name = service.GetProperty("address").GetString();
        var build = Section(service, "build");
        var deploy = Section(service, "deploy");

        Expect(problems, $"{name}.build.builder", Text(build, "builder"), "DOCKERFILE");
        Expect(problems, $"{name}.build.dockerfilePath", Text(build, "dockerfilePath"), "Dockerfile");
        Expect(problems, $"{name}.deploy.healthcheckPath", Text(deploy, "healthcheckPath"), facts.HealthcheckPath, "the route of the Health function in functions.metadata");
        Expect(problems, $"{name}.deploy.restartPolicyType", Text(deploy, "restartPolicyType"), "ON_FAILURE");
        Expect(problems, $"{name}.deploy.requiredMountPath", Text(deploy, "requiredMountPath"), facts.MountPath, "the directory of the Dockerfile's Persistence__DatabasePath");
        Expect(problems, $"{name}.deploy.numReplicas", Text(deploy, "numReplicas"), "1", "one writer per volume");
        Expect(problems, $"{name}.deploy.overlapSeconds", Text(deploy, "overlapSeconds") ?? "0", "0", "the old container must be gone before the new one takes the volume");
        foreach (var positive in new[] { "healthcheckTimeout", "restartPolicyMaxRetries", "drainingSeconds" })
        {
            if (!(long.TryParse(Text(deploy, positive), CultureInfo.InvariantCulture, out var seconds) && seconds > 0))
            {
                problems.Add($"{name}.deploy.{positive} must be a positive number, is {Text(deploy, positive) ?? "missing"}");
            }
        }

        CheckVolume(problems, service, name!, volumes, facts);
        CheckVariables(problems, service, name!, facts);
        CheckOffsiteBucket(problems, service, name!, resources);
        CheckAgreesWithToml(problems, build, deploy, facts.RailwayToml);
        return problems;
    }

    private static void CheckVolume(List<string> problems, JsonElement service, string name, List<JsonElement> volumes, Facts facts)
    {
        var attachments = service.TryGetProperty("volumeAttachments", out var a) ? a.EnumerateObject().ToList() : [];
        if (attachments.Count != 1)
        {
            problems.Add($"{name}.volumeMounts: expected one volume mounted at {facts.MountPath}, found {attachments.Count} attachments");
            return;
        }

        var attachment = attachments[0].Value;
        var field = $"{name}.volumeAttachments.{attachments[0].Name}";
        Expect(problems, $"{field}.mountPath", Text(attachment, "mountPath"), facts.MountPath, "the directory of the Dockerfile's Persistence__DatabasePath");
        var target = Text(attachment, "volume");
        var volume = volumes.FirstOrDefault(v => v.GetProperty("address").GetString() == target);
        if (volume.ValueKind == JsonValueKind.Undefined)
        {
            problems.Add($"{field}.volume: {target} is not among the project's resources (declare the volume and list it in project(...).resources)");
            return;
        }

        var schedules = attachment.TryGetProperty("backupSchedules", out var s) ? s.EnumerateArray().Select(x => x.GetString()).ToList() : [];
        if (!schedules.Contains("DAILY") || !schedules.Contains("WEEKLY"))
        {
            problems.Add($"{field}.backupSchedules: Railway's own volume backups must include DAILY and WEEKLY, are [{string.Join(", ", schedules)}]");
        }

        var config = Section(volume, "config");
        if (!(long.TryParse(Text(config, "sizeMB"), CultureInfo.InvariantCulture, out var size) && size > 0))
        {
            problems.Add($"{target}.config.sizeMB must be a positive size, is {Text(config, "sizeMB") ?? "missing"}");
        }

        if (!(config.ValueKind == JsonValueKind.Object && config.TryGetProperty("alerts", out var alerts) && alerts.TryGetProperty("usage", out var usage)
            && usage.EnumerateObject().Any()))
        {
            problems.Add($"{target}.config.alerts.usage: declare a usage alert, so a filling volume is noticed before backups fail");
        }
    }

    private static void CheckVariables(List<string> problems, JsonElement service, string name, Facts facts)
    {
        var variables = service.TryGetProperty("variables", out var v) ? v.EnumerateObject().ToDictionary(p => p.Name, p => Config(p.Value)) : [];
        foreach (var schedule in new[] { "BACKUP_SCHEDULE", "DRILL_SCHEDULE" })
        {
            var value = variables.TryGetValue(schedule, out var config) ? Text(config, "value") : null;
            Expect(problems, $"{name}.variables.{schedule}.value", value, facts.ImageEnvironment[schedule], "the Dockerfile's default");
        }

        foreach (var (key, config) in variables)
        {
            var value = Text(config, "value");
            var secret = key.Contains("ConnectionString", StringComparison.Ordinal) || key.Contains("Secret", StringComparison.Ordinal)
                || key.Contains("Password", StringComparison.Ordinal) || key.EndsWith("Key", StringComparison.Ordinal);
            if (secret && !IsReference(config) && (value is not null || Text(config, "isSealed") != "true" || Text(config, "isOptional") != "true"))
            {
                problems.Add($"{name}.variables.{key}: a secret is declared sealed and optional, never with a value");
            }

            if (key.StartsWith("Persistence__", StringComparison.Ordinal) && value is not null
                && facts.ImageEnvironment.TryGetValue(key, out var imageValue) && imageValue == value)
            {
                problems.Add($"{name}.variables.{key}: '{value}' is already the image's value; declare only settings that differ");
            }
        }
    }

    /// <summary>The bucket's variables each S3 setting must reference, so the off-volume target needs no hand-copied value.</summary>
    public static readonly IReadOnlyDictionary<string, string> BucketOutputs = new Dictionary<string, string>
    {
        ["Persistence__Offsite__S3__Bucket"] = "BUCKET",
        ["Persistence__Offsite__S3__Endpoint"] = "ENDPOINT",
        ["Persistence__Offsite__S3__Region"] = "REGION",
        ["Persistence__Offsite__S3__AccessKeyId"] = "ACCESS_KEY_ID",
        ["Persistence__Offsite__S3__SecretAccessKey"] = "SECRET_ACCESS_KEY",
    };

    /// <summary>
    /// The off-volume bucket: declared among the project's resources, and every S3 setting of the service a reference
    /// to that bucket's own variable of the same meaning (a literal, or a reference to anything else, is a problem).
    /// </summary>
    private static void CheckOffsiteBucket(List<string> problems, JsonElement service, string name, List<JsonElement> resources)
    {
        var buckets = resources.Where(r => r.GetProperty("type").GetString() == "bucket").Select(r => r.GetProperty("address").GetString()).ToHashSet(StringComparer.Ordinal);
        if (buckets.Count == 0)
        {
            problems.Add("resources: expected a bucket for the off-volume copies (bucket(...) listed in project(...).resources)");
        }

        var variables = service.TryGetProperty("variables", out var v) ? v.EnumerateObject().ToDictionary(p => p.Name, p => p.Value) : [];
        foreach (var (key, output) in BucketOutputs)
        {
            if (!variables.TryGetValue(key, out var variable) || !IsReference(variable))
            {
                problems.Add($"{name}.variables.{key}: expected a reference to the bucket's {output}, is {(variables.ContainsKey(key) ? "not a reference" : "missing")}");
                continue;
            }

            var resource = Text(variable, "resource");
            if (resource is null || !buckets.Contains(resource))
            {
                problems.Add($"{name}.variables.{key}: references {resource ?? "nothing"}, which is not a bucket among the project's resources");
            }

            Expect(problems, $"{name}.variables.{key}.output", Text(variable, "output"), output, "the bucket's variable of that meaning");
        }
    }

    private static bool IsReference(JsonElement variable) => Text(variable, "type") == "reference";

    /// <summary>Every key railway.toml's [build] and [deploy] set must have the same value in railway.ts.</summary>
    private static void CheckAgreesWithToml(List<string> problems, JsonElement build, JsonElement deploy, TomlTable toml)
    {
        foreach (var (table, section) in new[] { ("build", build), ("deploy", deploy) })
        {
            foreach (var (key, value) in (TomlTable)toml[table])
            {
                var expected = value is TomlArray array ? string.Join(",", array.Select(x => x!.ToString())) : Convert.ToString(value, CultureInfo.InvariantCulture);
                var actual = section.ValueKind == JsonValueKind.Object && section.TryGetProperty(key, out var element)
                    ? element.ValueKind == JsonValueKind.Array ? string.Join(",", element.EnumerateArray().Select(x => x.GetString())) : Scalar(element)
                    : null;
                if (actual != expected)
                {
                    problems.Add($"{table}.{key}: railway.toml says {expected}, railway.ts says {actual ?? "nothing"}");
                }
            }
        }
    }

    /// <summary>A variable's settings: literal variables carry them inline, raw ones under <c>value</c>.</summary>
    private static JsonElement Config(JsonElement variable) =>
        variable.TryGetProperty("type", out var type) && type.GetString() == "raw" ? variable.GetProperty("value") : variable;

    private static JsonElement Section(JsonElement node, string name) => node.TryGetProperty(name, out var section) ? section : default;

    private static string? Text(JsonElement node, string name) =>
        node.ValueKind == JsonValueKind.Object && node.TryGetProperty(name, out var value) ? Scalar(value) : null;

    private static string? Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    private static void Expect(List<string> problems, string field, string? actual, string expected, string? why = null)
    {
        if (actual != expected)
        {
            problems.Add($"{field} is {(actual is null ? "missing" : $"'{actual}'")}, expected '{expected}'{(why is null ? "" : $" ({why})")}");
        }
    }
}
