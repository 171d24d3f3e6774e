using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Emergence.Persistence.Records;

/// <summary>The JSON shape of manifests, reports and request files: snake_case, indented, enums as strings.</summary>
public static class PersistenceJson
{
    /// <summary>Options used for every JSON file and report this project writes.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower), new UtcSecondsConverter() },
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };
}
