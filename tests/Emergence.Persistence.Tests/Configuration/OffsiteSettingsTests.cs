using Emergence.Persistence.Configuration;
using Microsoft.Extensions.Configuration;

namespace Emergence.Persistence.Tests.Configuration;

public sealed class OffsiteSettingsTests
{
    private const string Development = "UseDevelopmentStorage=true";
    private const string SecretKey = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=";

    private static PersistenceOptions Bind(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>();
        foreach (var (key, value) in settings)
        {
            values[key] = value; // a later value replaces an earlier one
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var options = new PersistenceOptions();
        PersistenceSettings.Bind(configuration, options);
        return options;
    }

    [Fact]
    public void Bind_NothingSet_OffsiteIsOff_AndTheDrillRunsDaily()
    {
        var options = Bind();

        Assert.False(options.Offsite.Enabled);
        Assert.Equal(24, options.Offsite.KeepBackups);
        Assert.Equal("0 30 3 * * *", options.DrillSchedule);
    }

    [Fact]
    public void Bind_ConnectionStringAndContainer_TurnsItOn()
    {
        var options = Bind(("Persistence:Offsite:ConnectionString", Development), ("Persistence:Offsite:Container", "app-backups"), ("Persistence:Offsite:KeepBackups", "48"));

        Assert.True(options.Offsite.Enabled);
        Assert.Equal("app-backups", options.Offsite.Container);
        Assert.Equal(48, options.Offsite.KeepBackups);
    }

    [Fact]
    public void Bind_ServiceUri_TurnsItOnWithoutASecret()
    {
        var options = Bind(("Persistence:Offsite:ServiceUri", "https://account.blob.core.windows.net"), ("Persistence:Offsite:Container", "app-backups"));

        Assert.True(options.Offsite.Enabled);
        Assert.Null(options.Offsite.ConnectionString);
        Assert.Equal(new Uri("https://account.blob.core.windows.net"), options.Offsite.ServiceUri);
    }

    [Theory]
    [InlineData("Persistence:Offsite:Container", "Backups", "Persistence__Offsite__Container='Backups' is invalid: expected 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.")]
    [InlineData("Persistence:Offsite:Container", "ab", "Persistence__Offsite__Container='ab' is invalid: expected 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.")]
    [InlineData("Persistence:Offsite:Container", "app--backups", "Persistence__Offsite__Container='app--backups' is invalid: expected 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.")]
    [InlineData("Persistence:Offsite:KeepBackups", "0", "Persistence__Offsite__KeepBackups='0' is invalid: expected a whole number from 1 to 1000.")]
    [InlineData("Persistence:Offsite:KeepBackups", "all", "Persistence__Offsite__KeepBackups='all' is invalid: expected a whole number from 1 to 1000.")]
    [InlineData("DRILL_SCHEDULE", "daily", "DRILL_SCHEDULE='daily' is invalid: expected a 6-field NCRONTAB expression 'sec min hour day month weekday', e.g. '0 0 * * * *' for hourly.")]
    public void Bind_BadValue_ThrowsOneLineNamingTheSetting(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("Persistence:Offsite:ConnectionString", Development), ("Persistence:Offsite:Container", "app-backups"), (key, value)));

        Assert.Equal("Setting " + expected, error.Message);
    }

    [Fact]
    public void Bind_ServiceUriNotAbsolute_IsRejected()
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("Persistence:Offsite:ServiceUri", "account.blob.core.windows.net"), ("Persistence:Offsite:Container", "app-backups")));

        Assert.Equal("Persistence__Offsite__ServiceUri", error.Setting);
    }

    [Fact]
    public void Bind_BothConnectionStringAndServiceUri_AreRejected()
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(
            ("Persistence:Offsite:ConnectionString", Development),
            ("Persistence:Offsite:ServiceUri", "https://account.blob.core.windows.net"),
            ("Persistence:Offsite:Container", "app-backups")));

        Assert.Contains("not both", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_ConnectionWithoutContainer_IsRejected()
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("Persistence:Offsite:ConnectionString", Development)));

        Assert.Equal("Persistence__Offsite__Container", error.Setting);
    }

    [Fact]
    public void Bind_ContainerWithoutConnection_IsRejected()
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("Persistence:Offsite:Container", "app-backups")));

        Assert.Contains("Persistence__Offsite__ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_MalformedConnectionString_IsRejectedWithoutRepeatingTheSecret()
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("Persistence:Offsite:ConnectionString", $"AccountKey={SecretKey};nonsense"), ("Persistence:Offsite:Container", "app-backups")));

        Assert.Equal("Persistence__Offsite__ConnectionString", error.Setting);
        Assert.DoesNotContain(SecretKey, error.Message, StringComparison.Ordinal);
        Assert.Contains("(value hidden)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_S3Bucket_TurnsTheS3TargetOnAlone_WithItsDefaults()
    {
        var options = Bind(("Persistence:Offsite:S3:Bucket", "app-backups"), ("Persistence:Offsite:S3:Endpoint", "https://storage.railway.app"), ("Persistence:Offsite:S3:AccessKeyId", "tid_key"), ("Persistence:Offsite:S3:SecretAccessKey", SecretKey));

        Assert.True(options.Offsite.Enabled);
        Assert.False(options.Offsite.AzureEnabled);
        Assert.True(options.Offsite.S3.Enabled);
        Assert.Equal(new Uri("https://storage.railway.app"), options.Offsite.S3.Endpoint);
        Assert.Equal("auto", options.Offsite.S3.Region);
        Assert.False(options.Offsite.S3.ForcePathStyle);
        Assert.Equal("", options.Offsite.S3.Prefix);
        Assert.Equal("app-backups", options.Offsite.TargetName);
    }

    [Fact]
    public void Bind_AzureAndS3_BothOn_NamedTogether()
    {
        var options = Bind(("Persistence:Offsite:ConnectionString", Development), ("Persistence:Offsite:Container", "app-backups"), ("Persistence:Offsite:S3:Bucket", "app-bucket"), ("Persistence:Offsite:S3:ForcePathStyle", "true"), ("Persistence:Offsite:S3:Prefix", "app1/"), ("Persistence:Offsite:S3:Region", "us-east-1"));

        Assert.True(options.Offsite.AzureEnabled);
        Assert.True(options.Offsite.S3.Enabled);
        Assert.True(options.Offsite.S3.ForcePathStyle);
        Assert.Equal("app1/", options.Offsite.S3.Prefix);
        Assert.Equal("us-east-1", options.Offsite.S3.Region);
        Assert.Equal("app-backups+app-bucket", options.Offsite.TargetName);
    }

    [Theory]
    [InlineData("Persistence:Offsite:S3:Bucket", "App_Backups", "Persistence__Offsite__S3__Bucket='App_Backups' is invalid: expected 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.")]
    [InlineData("Persistence:Offsite:S3:Endpoint", "storage.railway.app", "Persistence__Offsite__S3__Endpoint='storage.railway.app' is invalid: expected the S3 endpoint's absolute URI without a path, e.g. https://storage.railway.app (blank for AWS).")]
    [InlineData("Persistence:Offsite:S3:Endpoint", "https://storage.railway.app/app-backups", "Persistence__Offsite__S3__Endpoint='https://storage.railway.app/app-backups' is invalid: expected the S3 endpoint's absolute URI without a path, e.g. https://storage.railway.app (blank for AWS).")]
    [InlineData("Persistence:Offsite:S3:ForcePathStyle", "yes", "Persistence__Offsite__S3__ForcePathStyle='yes' is invalid: expected true or false.")]
    [InlineData("Persistence:Offsite:S3:Prefix", "app1", "Persistence__Offsite__S3__Prefix='app1' is invalid: expected a key prefix ending in '/', not starting with one, e.g. app1/ (at most 200 characters).")]
    [InlineData("Persistence:Offsite:S3:Region", "us east", "Persistence__Offsite__S3__Region='us east' is invalid: expected a region name such as auto or us-east-1.")]
    public void Bind_BadS3Value_ThrowsOneLineNamingTheSetting(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("Persistence:Offsite:S3:Bucket", "app-backups"), (key, value)));

        Assert.Equal("Setting " + expected, error.Message);
    }

    [Theory]
    [InlineData("Persistence:Offsite:S3:AccessKeyId", "Persistence__Offsite__S3__SecretAccessKey")]
    [InlineData("Persistence:Offsite:S3:SecretAccessKey", "Persistence__Offsite__S3__AccessKeyId")]
    public void Bind_HalfGivenS3Credentials_AreRejectedNamingTheMissingOne_WithoutRepeatingTheSecret(string given, string missing)
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind(("Persistence:Offsite:S3:Bucket", "app-backups"), (given, SecretKey)));

        Assert.Equal(PersistenceSettings.EnvName(given), error.Setting);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        if (given.EndsWith("SecretAccessKey", StringComparison.Ordinal))
        {
            Assert.DoesNotContain(SecretKey, error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Persistence:Offsite:S3:Endpoint", "https://storage.railway.app")]
    [InlineData("Persistence:Offsite:S3:SecretAccessKey", SecretKey)]
    [InlineData("Persistence:Offsite:S3:Prefix", "app1/")]
    public void Bind_S3SettingWithoutABucket_IsRejected_WithoutRepeatingASecret(string key, string value)
    {
        var error = Assert.Throws<InvalidSettingException>(() => Bind((key, value)));

        Assert.Equal(PersistenceSettings.EnvName(key), error.Setting);
        Assert.Contains("Persistence__Offsite__S3__Bucket", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, error.Message, StringComparison.Ordinal);
    }
}
