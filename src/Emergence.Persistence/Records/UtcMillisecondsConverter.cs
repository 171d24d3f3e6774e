using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Emergence.Persistence.Records;

/// <summary>Writes times as ISO-8601 UTC to the millisecond (<c>2025-01-14T10:30:00.250Z</c>), for the replication records, whose times a restore to a point compares; reads any ISO-8601 time.</summary>
public sealed class UtcMillisecondsConverter : JsonConverter<DateTimeOffset>
{
    /// <summary>A time as these records write it, for messages that name a point in the timeline.</summary>
    public static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new UtcSecondsConverter().Read(ref reader, typeToConvert, options);

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(Format(value));
    }
}
