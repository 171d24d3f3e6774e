using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Emergence.Persistence.Records;

/// <summary>Writes times as ISO-8601 UTC to the second (<c>2025-01-14T10:30:00Z</c>), as the contracts show them; reads any ISO-8601 time.</summary>
public sealed class UtcSecondsConverter : JsonConverter<DateTimeOffset>
{
    /// <summary>A time as these records and the contracts write it (<c>2025-01-14T10:30:00Z</c>), for messages, reports and metadata.</summary>
    public static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : throw new JsonException($"'{text}' is not an ISO-8601 time.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(Format(value));
    }
}
