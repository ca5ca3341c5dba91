using Koalja.Functions.Host.Rpc;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Host;

/// <summary>
/// The HTTP/1.1 front door, <c>/{worker}/api/{**route}</c>: finds the worker's HTTP-triggered function for the route
/// and method, sends the request as an invocation, and writes the function's RpcHttp answer back. A failed
/// invocation is a 500 problem naming the exception; no such worker or route a 404, a worker starting, restarting or
/// gone mid-invocation a 503 with <c>Retry-After: 1</c>; a body above the limit a 413. A caller that goes away
/// cancels its invocation (InvocationCancel).
/// </summary>
internal sealed partial class FrontDoor(IReadOnlyDictionary<string, WorkerSupervisor> workers, InFlight inFlight, FunctionsHostOptions options, ILogger log)
{
    /// <summary>The port the front door listens on (requests arriving on the gRPC port are not served).</summary>
    public int Port { get; set; }

    public async Task HandleAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["name"] as string ?? "";
        var cancellationToken = context.RequestAborted;
        if (context.Connection.LocalPort != Port || !workers.TryGetValue(name, out var worker))
        {
            await Problem.Of("no-worker", "No such worker", StatusCodes.Status404NotFound, $"This host runs no worker named '{name}'.")
                .WriteAsync(context.Response, cancellationToken);
            return;
        }

        if (!inFlight.TryEnter())
        {
            await Problem.Of("stopping", "The Functions host is stopping", StatusCodes.Status503ServiceUnavailable, "The host takes no new invocations while it stops.")
                .WriteAsync(context.Response, cancellationToken);
            return;
        }

        try
        {
            await ServeAsync(context, worker, context.Request.RouteValues["route"] as string ?? "", cancellationToken);
        }
        finally
        {
            inFlight.Exit();
        }
    }

    private async Task ServeAsync(HttpContext context, WorkerSupervisor worker, string route, CancellationToken cancellationToken)
    {
        var state = worker.State;
        if (state is not WorkerState.Ready ready)
        {
            await Problem.Of("worker-unavailable", "The worker is not ready", StatusCodes.Status503ServiceUnavailable, ((WorkerState.Unavailable)state).Reason, worker: worker.Name)
                .WriteAsync(context.Response, cancellationToken);
            return;
        }

        switch (ready.Functions.Match(context.Request.Method, route))
        {
            case RouteMatch.NotFound:
                await Problem.Of("no-function", "No such function", StatusCodes.Status404NotFound, $"No HTTP-triggered function of worker '{worker.Name}' has the route 'api/{route}'.", worker: worker.Name)
                    .WriteAsync(context.Response, cancellationToken);
                return;
            case RouteMatch.MethodNotAllowed notAllowed:
                context.Response.Headers.Allow = string.Join(", ", notAllowed.Allowed);
                await Problem.Of("method-not-allowed", "Method not allowed", StatusCodes.Status405MethodNotAllowed, $"'api/{route}' of worker '{worker.Name}' takes {string.Join(", ", notAllowed.Allowed)}, not {context.Request.Method}.", worker: worker.Name)
                    .WriteAsync(context.Response, cancellationToken);
                return;
            case RouteMatch.Found found:
                if (await ReadBodyAsync(context, cancellationToken) is not { } body)
                {
                    await Problem.Of("too-large", "The request body is too large", StatusCodes.Status413PayloadTooLarge, $"A request body is at most {options.MaxRequestBodyBytes:N0} bytes here.", worker: worker.Name)
                        .WriteAsync(context.Response, cancellationToken);
                    return;
                }

                await InvokeAsync(context, worker.Name, ready.Connection, found, body, cancellationToken);
                return;
        }
    }

    private async Task InvokeAsync(HttpContext context, string worker, WorkerConnection connection, RouteMatch.Found found, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var invocationId = Guid.NewGuid().ToString();
        var function = found.Function.Name;
        var started = options.Time.GetTimestamp();
        var answer = connection.InvokeAsync(HttpInvocations.Request(context.Request, body, found, invocationId));
        InvocationResponse response;
        await using (cancellationToken.Register(() =>
        {
            connection.Cancel(invocationId);
            LogCancelSent(log, worker, function, invocationId);
        }))
        {
            try
            {
                response = await answer;
            }
            catch (WorkerGoneException e)
            {
                if (!cancellationToken.IsCancellationRequested)
                {
                    await Problem.Of("worker-gone", "The worker went away", StatusCodes.Status503ServiceUnavailable, e.Message, worker: worker, function: function, invocationId: invocationId)
                        .WriteAsync(context.Response, cancellationToken);
                }

                return;
            }
        }

        var elapsed = (long)options.Time.GetElapsedTime(started).TotalMilliseconds;
        if (cancellationToken.IsCancellationRequested)
        {
            LogEndedAfterCancel(log, worker, function, invocationId, response.Result?.Status, elapsed);
            return;
        }

        LogInvoked(log, worker, function, invocationId, response.Result?.Status, elapsed);
        await WriteAnswerAsync(context.Response, worker, function, invocationId, response, cancellationToken);
    }

    private static async Task WriteAnswerAsync(HttpResponse http, string worker, string function, string invocationId, InvocationResponse response, CancellationToken cancellationToken)
    {
        if (response.Result is not { Status: StatusResult.Types.Status.Success })
        {
            var exception = response.Result?.Exception;
            await Problem.Of("function-failed", "The function failed", StatusCodes.Status500InternalServerError,
                exception is null ? $"The invocation ended {response.Result?.Status.ToString() ?? "without a result"}." : $"{exception.Type}: {exception.Message}", worker: worker, function: function, invocationId: invocationId, exceptionType: exception?.Type).WriteAsync(http, cancellationToken);
            return;
        }

        if (HttpInvocations.ResponseOf(response) is not { } answer)
        {
            await Problem.Of("no-http-response", "The function answered no HTTP response", StatusCodes.Status500InternalServerError,
                "The invocation succeeded but returned no HTTP response (neither its return value nor an output binding is one).", worker: worker, function: function, invocationId: invocationId).WriteAsync(http, cancellationToken);
            return;
        }

        try
        {
            await HttpInvocations.WriteAsync(http, answer, cancellationToken);
        }
        catch (FormatException e)
        {
            await Problem.Of("bad-http-response", "The function answered an unusable HTTP response", StatusCodes.Status500InternalServerError, e.Message, worker: worker, function: function, invocationId: invocationId).WriteAsync(http, cancellationToken);
        }
    }

    /// <summary>The whole request body, or null when it is larger than the limit.</summary>
    private async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var limit = options.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            return null;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        var buffer = new MemoryStream(context.Request.ContentLength is { } length ? (int)length : 0);
        try
        {
            await context.Request.Body.CopyToAsync(buffer, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.Length > limit ? null : new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The caller of {Function} on worker {Worker} went away; InvocationCancel sent for invocation {InvocationId}")]
    private static partial void LogCancelSent(ILogger log, string worker, string function, string invocationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Invocation {InvocationId} of {Function} on worker {Worker} ended {Status} after its caller went away ({ElapsedMs} ms)")]
    private static partial void LogEndedAfterCancel(ILogger log, string worker, string function, string invocationId, StatusResult.Types.Status? status, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Invocation {InvocationId} of {Function} on worker {Worker}: {Status} in {ElapsedMs} ms")]
    private static partial void LogInvoked(ILogger log, string worker, string function, string invocationId, StatusResult.Types.Status? status, long elapsedMs);
}
