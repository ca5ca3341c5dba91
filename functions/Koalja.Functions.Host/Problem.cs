using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Koalja.Functions.Host;

/// <summary>An <c>application/problem+json</c> answer of the front door itself (not of a function).</summary>
internal sealed record Problem(string Type, string Title, int Status, string Detail)
{
    public const string MediaType = "application/problem+json";
    private const string TypeBase = "https://koalja.dev/problems/functions-host/";

    public string? Worker { get; init; }

    public string? Function { get; init; }

    public string? InvocationId { get; init; }

    public string? ExceptionType { get; init; }

    public static Problem Of(string kind, string title, int status, string detail, string? worker = null, string? function = null, string? invocationId = null, string? exceptionType = null) =>
        new(TypeBase + kind, title, status, detail) { Worker = worker, Function = function, InvocationId = invocationId, ExceptionType = exceptionType };

    public async Task WriteAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.StatusCode = Status;
        response.ContentType = MediaType;
        if (Status == StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers.RetryAfter = "1";
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(this, ProblemJsonContext.Default.Problem);
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, cancellationToken);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Problem))]
internal sealed partial class ProblemJsonContext : JsonSerializerContext;
