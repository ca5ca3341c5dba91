using System.Net;
using Koalja.Tasks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Koalja.Functions;

/// <summary>
/// <c>POST /api/snapshot</c>: an <c>io.koalja.snapshot</c> CloudEvent (structured or binary mode) in; the batch of
/// <c>io.koalja.value</c> + <c>io.koalja.execution</c> events (200), the problem of a failed execution (422) or of a
/// refused event (400) out. A thin adapter over <see cref="TaskHost"/>, the same code <c>koalja up</c> runs in process.
/// </summary>
public sealed class SnapshotFunction(TaskHost host)
{
    /// <summary>A snapshot event larger than this is refused (413): the event carries references to values, not their content.</summary>
    public const long MaxEventBytes = 64L * 1024 * 1024;

    [Function("snapshot")]
    public async Task<HttpResponseData> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "snapshot")] HttpRequestData req, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(req);
        ArgumentNullException.ThrowIfNull(context);
        var cancellationToken = context.CancellationToken;
        if (await HttpBodies.ReadAsync(req.Body, MaxEventBytes, cancellationToken) is not { } body)
        {
            return await HttpBodies.ProblemAsync(req, HttpStatusCode.RequestEntityTooLarge, "The snapshot event is too large",
                $"A snapshot event is at most {MaxEventBytes:N0} bytes.", cancellationToken);
        }

        var headers = req.Headers.Select(h => KeyValuePair.Create(h.Key, (IReadOnlyList<string>)h.Value.ToList()));
        var contentType = req.Headers.TryGetValues("Content-Type", out var values) ? values.FirstOrDefault() : null;
        var answer = await host.HandleHttpAsync(contentType, headers, body, cancellationToken);
        var response = req.CreateResponse((HttpStatusCode)answer.Status);
        response.Headers.Add("Content-Type", answer.ContentType);
        await response.Body.WriteAsync(answer.Body, cancellationToken);
        return response;
    }
}

/// <summary><c>GET /api/health</c>: 200 once the worker has composed its task runtime and reached its store.</summary>
public sealed class HealthFunction
{
    [Function("health")]
    public static async Task<HttpResponseData> RunAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequestData req)
    {
        ArgumentNullException.ThrowIfNull(req);
        var response = req.CreateResponse(HttpStatusCode.OK);
        await response.WriteAsJsonAsync(new { status = "ready", version = typeof(HealthFunction).Assembly.GetName().Version?.ToString() });
        return response;
    }
}
