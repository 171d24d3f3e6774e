using System.Text.Json;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Tests.Records;

public sealed class UtcSecondsConverterTests
{
    private static readonly JsonSerializerOptions Options = new() { Converters = { new UtcSecondsConverter() } };

    [Theory]
    [InlineData("2025-01-14T10:30:00Z", "2025-01-14T10:30:00Z")]
    [InlineData("2025-01-14T10:30:00.999Z", "2025-01-14T10:30:00Z")]
    [InlineData("2025-01-14T12:30:00+02:00", "2025-01-14T10:30:00Z")]
    [InlineData("2025-01-14T00:30:00-10:00", "2025-01-14T10:30:00Z")]
    public void Format_AnyOffset_WritesUtcToTheSecond(string time, string expected)
    {
        var value = DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture);

        var formatted = UtcSecondsConverter.Format(value);

        Assert.Equal(expected, formatted);
    }

    [Fact]
    public void Write_WritesWhatFormatReturns()
    {
        var value = new DateTimeOffset(2025, 1, 14, 12, 30, 0, 250, TimeSpan.FromHours(2));

        var json = JsonSerializer.Serialize(value, Options);

        Assert.Equal($"\"{UtcSecondsConverter.Format(value)}\"", json);
    }
}
