using Emergence.Functions.Metrics;

namespace Emergence.Functions.Tests.Metrics;

public sealed class PrometheusTextTests
{
    [Theory]
    [InlineData("emergence.backups", "{backup}", true, "emergence_backups_total")]
    [InlineData("emergence.backup.duration", "s", false, "emergence_backup_duration_seconds")]
    [InlineData("emergence.backup.last_success.timestamp", "s", false, "emergence_backup_last_success_timestamp_seconds")]
    [InlineData("emergence.replication.lag", "s", false, "emergence_replication_lag_seconds")]
    [InlineData("emergence.offsite.lag", "s", false, "emergence_offsite_lag_seconds")]
    [InlineData("emergence.offsite.requests", "{request}", true, "emergence_offsite_requests_total")]
    [InlineData("emergence.offsite.sent", "By", true, "emergence_offsite_sent_bytes_total")]
    [InlineData("emergence.volume.free", "By", false, "emergence_volume_free_bytes")]
    [InlineData("emergence.health.status", "{status}", false, "emergence_health_status")]
    public void Name_OpenTelemetryNameAndUnit_GivesThePrometheusName(string name, string unit, bool counter, string expected)
    {
        Assert.Equal(expected, PrometheusText.Name(name, unit, counter));
    }
}
