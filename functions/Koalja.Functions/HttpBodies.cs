using System.Net;
using Koalja.Core.Contract;
using Microsoft.Azure.Functions.Worker.Http;

namespace Koalja.Functions;

internal static class HttpBodies
{
    /// <summary>The whole body, or null when it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<byte[]?> ReadAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>An <c>application/problem+json</c> response.</summary>
    public static async Task<HttpResponseData> ProblemAsync(HttpRequestData req, HttpStatusCode status, string title, string detail, CancellationToken cancellationToken)
    {
        var response = req.CreateResponse(status);
        response.Headers.Add("Content-Type", ExecutionAnswers.ProblemMediaType);
        await response.WriteStringAsync(System.Text.Json.JsonSerializer.Serialize(new ProblemBody(title, (int)status, detail), FunctionsJsonContext.Default.ProblemBody), cancellationToken);
        return response;
    }
}

internal sealed record ProblemBody(string Title, int Status, string Detail);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ProblemBody))]
internal sealed partial class FunctionsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
