using System.Text.Json;
using Emergence.Persistence.Records;
using Microsoft.AspNetCore.Mvc;

namespace Emergence.Functions.Functions;

/// <summary>JSON bodies in the project's one shape (snake_case, UTC times), with a status code.</summary>
internal static class JsonResponse
{
    /// <summary>A JSON result with <paramref name="statusCode"/>.</summary>
    public static ContentResult Create<T>(T value, int statusCode) => new()
    {
        Content = JsonSerializer.Serialize(value, PersistenceJson.Options),
        ContentType = "application/json; charset=utf-8",
        StatusCode = statusCode,
    };

    /// <summary>A JSON error body <c>{"error": "..."}</c>.</summary>
    public static ContentResult Error(string message, int statusCode) => Create(new ErrorBody(message), statusCode);

    private sealed record ErrorBody(string Error);
}
