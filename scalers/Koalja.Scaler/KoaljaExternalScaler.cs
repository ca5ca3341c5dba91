using System.Threading.Channels;
using Grpc.Core;
using Koalja.Core.Scaling;
using Koalja.Scaler.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Koalja.Scaler;

/// <summary>
/// KEDA's external scaler over Koalja's scaling decision. The metric of a task is its work that can run (ready snapshots
/// plus executions in flight, capped so that dividing it by <c>targetSnapshotsPerReplica</c> gives the decision, which
/// holds an order-sensitive task at one replica); a task is active while it has any. <c>StreamIsActive</c> sends the
/// current activity at once and then every change of it, pushed by the router as snapshots become ready and executions
/// end; it ends when the client goes or the server stops (KEDA reconnects, and hears the current state first).
/// </summary>
public sealed partial class KoaljaExternalScaler(ITaskLoadSource source, IHostApplicationLifetime lifetime, ILogger<KoaljaExternalScaler> log)
    : ExternalScaler.ExternalScalerBase
{
    public override Task<IsActiveResponse> IsActive(ScaledObjectRef request, ServerCallContext context)
    {
        var (_, task) = Resolve(request);
        return Task.FromResult(new IsActiveResponse { Result = ScalingDecision.IsActive(task.Load) });
    }

    public override async Task StreamIsActive(ScaledObjectRef request, IServerStreamWriter<IsActiveResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var (target, task) = Resolve(request);
        // Each change of activity is queued as it happens (not only looked at when the stream gets round to it), so a
        // snapshot that is ready and done again before the write is still heard as true, then false.
        var changes = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleReader = true });
        var gate = new Lock();
        var last = false;
        IDisposable watch;
        lock (gate) // watching first, then the state now, and no change heard in between
        {
            watch = task.Watch(() =>
            {
                lock (gate)
                {
                    var active = ScalingDecision.IsActive(task.Load);
                    if (active != last)
                    {
                        last = active;
                        changes.Writer.TryWrite(active);
                    }
                }
            });
            last = ScalingDecision.IsActive(task.Load);
            changes.Writer.TryWrite(last);
        }

        using var _ = watch;
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        LogStreamOpened(target.Namespace, target.Pipeline, target.Task, context.Peer);
        try
        {
            await foreach (var active in changes.Reader.ReadAllAsync(ended.Token))
            {
                await responseStream.WriteAsync(new IsActiveResponse { Result = active }, ended.Token);
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // the client went, or the server stops: the stream ends (a stopping server ends it cleanly, so KEDA reconnects soon)
        }
        finally
        {
            LogStreamClosed(target.Namespace, target.Pipeline, target.Task, context.Peer);
        }
    }

    public override Task<GetMetricSpecResponse> GetMetricSpec(ScaledObjectRef request, ServerCallContext context)
    {
        var (target, _) = Resolve(request);
        return Task.FromResult(Spec(target));
    }

    public override async Task StreamMetricSpec(ScaledObjectRef request, IServerStreamWriter<GetMetricSpecResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var (target, _) = Resolve(request);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            // The spec follows from the trigger's metadata alone, which cannot change under an open stream: one message, then wait.
            await responseStream.WriteAsync(Spec(target), ended.Token);
            await Task.Delay(Timeout.Infinite, ended.Token);
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
        }
    }

    public override Task<GetMetricsResponse> GetMetrics(GetMetricsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ScaledObjectRef is null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "GetMetrics needs the scaledObjectRef (with the trigger's scalerMetadata)."));
        }

        var (target, task) = Resolve(request.ScaledObjectRef);
        var metric = ScalingDecision.ScalingMetric(task.Load, task.OrderSensitive, target.Limits);
        var response = new GetMetricsResponse();
        response.MetricValues.Add(new MetricValue
        {
            // KEDA asks by the name it registered with the HPA (its own prefix before ours); answer under the name asked for.
            MetricName = request.MetricName is { Length: > 0 } asked ? asked : target.MetricName,
            MetricValue_ = metric,
            MetricValueFloat = metric,
        });
        return Task.FromResult(response);
    }

    private static GetMetricSpecResponse Spec(ScalerTarget target)
    {
        var response = new GetMetricSpecResponse();
        response.MetricSpecs.Add(new MetricSpec
        {
            MetricName = target.MetricName,
            TargetSize = target.TargetSnapshotsPerReplica,
            TargetSizeFloat = target.TargetSnapshotsPerReplica,
        });
        return response;
    }

    /// <summary>The validated target and its task; a precise gRPC status otherwise.</summary>
    private (ScalerTarget Target, IScalableTask Task) Resolve(ScaledObjectRef? request)
    {
        if (request is null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The request has no ScaledObjectRef."));
        }

        ScalerTarget target;
        try
        {
            target = ScalerTarget.Parse(request.Namespace, request.ScalerMetadata);
        }
        catch (ScalerMetadataException e)
        {
            LogRefused(request.Namespace, request.Name, e.Message);
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"ScaledObject {request.Namespace}/{request.Name}: {e.Message}"));
        }

        var lookup = source.Find(target);
        if (lookup.Task is { } task)
        {
            return (target, task);
        }

        LogRefused(request.Namespace, request.Name, lookup.Message);
        var code = lookup.Problem == TaskLookupProblem.NotScalable ? StatusCode.InvalidArgument : StatusCode.NotFound;
        throw new RpcException(new Status(code, $"ScaledObject {request.Namespace}/{request.Name}: {lookup.Message}"));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "StreamIsActive for {Namespace}/{Pipeline}/{Task} opened by {Peer}")]
    private partial void LogStreamOpened(string @namespace, string pipeline, string task, string peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "StreamIsActive for {Namespace}/{Pipeline}/{Task} of {Peer} ended")]
    private partial void LogStreamClosed(string @namespace, string pipeline, string task, string peer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a scaler call for ScaledObject {Namespace}/{Name}: {Problem}")]
    private partial void LogRefused(string @namespace, string name, string? problem);
}
