using Emergence.Persistence.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Emergence.Functions.Tests;

public sealed class SettingsValidationTests
{
    [Theory]
    [InlineData("Persistence:KeepBackups", "-1", "Setting Persistence__KeepBackups='-1' is invalid: expected a whole number from 1 to 1000.")]
    [InlineData("BACKUP_SCHEDULE", "0 * * * *", "Setting BACKUP_SCHEDULE='0 * * * *' is invalid: expected a 6-field NCRONTAB expression")]
    [InlineData("Persistence:VolumeCheckSeconds", "0", "Setting Persistence__VolumeCheckSeconds='0' is invalid: expected a whole number of seconds from 1 to 86400.")]
    public async Task HostStart_BadSetting_StopsWithOneLineNamingIt(string key, string value, string expected)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Persistence:DatabasePath"] = Path.Combine(Path.GetTempPath(), "never-created", "database.sqlite"),
            [key] = value,
        });
        builder.Services.AddEmergencePersistence(builder.Configuration);
        builder.Services.AddEmergenceFunctionApp(builder.Configuration);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidSettingException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "never-created")));
    }
}
