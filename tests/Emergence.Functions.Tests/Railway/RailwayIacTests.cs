using Emergence.Functions.Tests.Support;

namespace Emergence.Functions.Tests.Railway;

/// <summary>.railway/railway.ts, evaluated with the pinned SDK, declares what the app needs and agrees with railway.toml.</summary>
public sealed class RailwayIacTests
{
    private static string RailwayTs => RepositoryFiles.Path(".railway/railway.ts");

    [Fact]
    public void RailwayTs_DeclaresTheServiceItsVolumeAndItsBucket_AsTheAppRunsThem()
    {
        RailwayIac.RequireSdk();

        var problems = RailwayIacCheck.Problems(RailwayIac.Evaluate(RailwayTs), RailwayIacCheck.Facts.FromRepository());

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void RailwayToml_SaysWhichFileRailwayReadsNow()
    {
        var header = string.Join('\n', File.ReadLines(RepositoryFiles.Path("railway.toml")).TakeWhile(l => l.StartsWith('#')));

        Assert.Contains(".railway/railway.ts", header, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("const mountPath = \"/app/data\";", "const mountPath = \"/app/dat\";", "deploy.requiredMountPath is '/app/dat', expected '/app/data'")]
    [InlineData("volumeMounts: { [mountPath]: data },", "volumeMounts: { \"/data\": data },", "volumeAttachments.emergence-data.mountPath is '/data', expected '/app/data'")]
    [InlineData("resources: [app, data, offsite]", "resources: [app, offsite]", "validateGraph: Edge references missing target: volume.emergence-data")]
    [InlineData("healthcheckPath: \"/api/health\",", "healthcheckPath: \"/api/healthz\",", "deploy.healthcheckPath is '/api/healthz', expected '/api/health'")]
    [InlineData("drainingSeconds: 60,", "drainingSeconds: 30,", "deploy.drainingSeconds: railway.toml says 60, railway.ts says 30")]
    [InlineData("isSealed: true,", "isSealed: true,\n        value: \"DefaultEndpointsProtocol=https\",", "variables.Persistence__Offsite__ConnectionString: a secret is declared sealed and optional")]
    [InlineData("resources: [app, data, offsite]", "resources: [app, data]", "variables.Persistence__Offsite__S3__Bucket: references bucket.emergence-offsite, which is not a bucket among the project's resources")]
    [InlineData("ref(offsite, \"SECRET_ACCESS_KEY\")", "ref(offsite, \"ACCESS_KEY_ID\")", "variables.Persistence__Offsite__S3__SecretAccessKey.output is 'ACCESS_KEY_ID', expected 'SECRET_ACCESS_KEY'")]
    [InlineData("Persistence__Offsite__S3__SecretAccessKey: ref(offsite, \"SECRET_ACCESS_KEY\"),", "Persistence__Offsite__S3__SecretAccessKey: \"tsec_copied\",", "variables.Persistence__Offsite__S3__SecretAccessKey: expected a reference to the bucket's SECRET_ACCESS_KEY, is not a reference")]
    public void ATypo_FailsNamingTheField(string original, string typo, string expected)
    {
        RailwayIac.RequireSdk();
        var text = File.ReadAllText(RailwayTs);
        Assert.Contains(original, text, StringComparison.Ordinal);
        var directory = Directory.CreateTempSubdirectory("emergence-railway-ts-").FullName;
        try
        {
            // Beside a link to the repository's node_modules, so "railway/iac" resolves to the pinned SDK.
            Directory.CreateSymbolicLink(Path.Combine(directory, "node_modules"), RepositoryFiles.Path("node_modules"));
            var copy = Path.Combine(directory, "railway.ts");
            File.WriteAllText(copy, text.Replace(original, typo, StringComparison.Ordinal));

            var problems = RailwayIacCheck.Problems(RailwayIac.Evaluate(copy), RailwayIacCheck.Facts.FromRepository());

            Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
