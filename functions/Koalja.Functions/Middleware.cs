using System.Diagnostics;
using Koalja.Core.Contract;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions;

/// <summary>
/// Puts the snapshot id (<c>ce-id</c> in binary mode) and the W3C trace context (<c>traceparent</c>, else the host's)
/// on every log line of the invocation, and makes the invocation's activity a child of that trace.
/// </summary>
public sealed partial class CorrelationMiddleware : IFunctionsWorkerMiddleware
{
    private static readonly ActivitySource Source = new("Koalja.Functions");

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = await context.GetHttpRequestDataAsync();
        string? Header(string name) => request is not null && request.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
        var traceParent = Header("traceparent") ?? context.TraceContext.TraceParent;
        var snapshot = Header("ce-id");
        ActivityContext.TryParse(traceParent, Header("tracestate") ?? context.TraceContext.TraceState, out var parent);
        using var activity = Source.StartActivity(context.FunctionDefinition.Name, ActivityKind.Server, parent);
        activity?.SetTag("koalja.snapshot", snapshot);
        var log = context.GetLogger("Koalja.Functions");
        using (log.BeginScope(new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["SnapshotId"] = snapshot,
            ["TraceParent"] = traceParent,
            ["InvocationId"] = context.InvocationId,
        }))
        {
            await next(context);
        }
    }
}

/// <summary>
/// An exception that escapes a function becomes a 500 <c>application/problem+json</c> answer (a fault: the router
/// retries the attempt) instead of the host's bare failure; cancellation passes through.
/// </summary>
public sealed partial class ErrorMiddleware(TimeProvider time) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            var log = context.GetLogger("Koalja.Functions");
            LogFault(log, e, context.FunctionDefinition.Name, context.InvocationId);
            if (await context.GetHttpRequestDataAsync() is not { } request)
            {
                throw;
            }

            var fault = ExecutionAnswers.Fault($"{e.GetType().Name}: {e.Message}", time.GetUtcNow());
            var response = request.CreateResponse((System.Net.HttpStatusCode)fault.Status);
            response.Headers.Add("Content-Type", fault.ContentType);
            await response.Body.WriteAsync(fault.Body, CancellationToken.None);
            context.GetInvocationResult().Value = response;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Function {Function} (invocation {InvocationId}) failed")]
    private static partial void LogFault(ILogger log, Exception error, string function, string invocationId);
}
