using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using GrpcException = Grpc.Core.RpcException;
using Koalja.Functions.Host.Rpc;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Host;

/// <summary>
/// One worker's EventStream, from its StartStream to its end: a single writer loop (stream writes must not overlap),
/// answers correlated to their requests (init and metadata by request id, loads by function id, invocations by
/// invocation id; loads come back out of order), RpcLog onto the worker's logger, empty messages ignored. When the
/// stream ends, or <see cref="Close"/> is called, every request still waiting fails at once with <see cref="WorkerGoneException"/>.
/// </summary>
internal sealed class WorkerConnection(string workerId, ILogger workerLog)
{
    private readonly Channel<StreamingMessage> _outgoing = Channel.CreateUnbounded<StreamingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<InvocationResponse>> _invocations = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action? _abort;
    private int _failed;

    public string WorkerId { get; } = workerId;

    /// <summary>Completes, with the reason, when the stream has ended or was closed.</summary>
    public Task<string> Closed => _closed.Task;

    /// <summary>Invocations that failed because the connection closed before their answer came.</summary>
    public int Failed => Volatile.Read(ref _failed);

    /// <summary>Reads the stream until it ends, writing what is queued; returns when the stream is over.</summary>
    public async Task RunAsync(IAsyncStreamReader<StreamingMessage> incoming, IServerStreamWriter<StreamingMessage> outgoing, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _abort = linked.Cancel;
        if (_closed.Task.IsCompleted)
        {
            linked.Cancel();
        }

        var writer = WriteAsync(outgoing, linked.Token);
        var reason = "the worker closed its stream";
        try
        {
            while (await incoming.MoveNext(linked.Token))
            {
                Dispatch(incoming.Current);
            }
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            reason = _closed.Task.IsCompleted ? _closed.Task.Result : "the worker's stream was aborted";
        }
        catch (Exception e)
        {
            reason = $"the worker's stream ended abruptly ({e.Message}): its process exited or was killed";
        }
        finally
        {
            Close(reason); // whatever ended the stream, nobody waits for an answer that cannot come
        }

        await writer;
        _abort = null;
    }

    /// <summary>Sends a request and waits for the answer filed under <paramref name="key"/> (see <see cref="KeyOf"/>).</summary>
    public async Task<StreamingMessage> RequestAsync(string key, StreamingMessage request, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_requests.TryAdd(key, answer))
        {
            throw new InvalidOperationException($"A request '{key}' is already waiting for its answer.");
        }

        try
        {
            Send(request);
            return await answer.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            _requests.TryRemove(key, out _);
        }
    }

    /// <summary>Sends an invocation; the task completes with the worker's answer, or fails with <see cref="WorkerGoneException"/>.</summary>
    public Task<InvocationResponse> InvokeAsync(InvocationRequest request)
    {
        var answer = new TaskCompletionSource<InvocationResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _invocations[request.InvocationId] = answer;
        if (_closed.Task.IsCompleted)
        {
            FailAll(_closed.Task.Result);
        }
        else
        {
            Send(new StreamingMessage { RequestId = request.InvocationId, InvocationRequest = request });
        }

        return answer.Task;
    }

    /// <summary>Asks the worker to cancel an invocation (cooperative: the function sees its cancellation token fire).</summary>
    public void Cancel(string invocationId) => Send(new StreamingMessage { InvocationCancel = new InvocationCancel { InvocationId = invocationId } });

    /// <summary>Queues a message; it is dropped when the stream is over.</summary>
    public void Send(StreamingMessage message) => _outgoing.Writer.TryWrite(message);

    /// <summary>Ends the connection: every waiting request fails with <paramref name="reason"/>, and the stream is ended.</summary>
    public void Close(string reason)
    {
        if (_closed.TrySetResult(reason))
        {
            _outgoing.Writer.TryComplete();
            try
            {
                _abort?.Invoke();
            }
            catch (ObjectDisposedException)
            {
                // the stream ended in between
            }
        }

        FailAll(_closed.Task.Result);
    }

    /// <summary>The key an answer is filed under, matching the key its request was sent with.</summary>
    public static string? KeyOf(StreamingMessage message) => message.ContentCase switch
    {
        StreamingMessage.ContentOneofCase.WorkerInitResponse => "init",
        StreamingMessage.ContentOneofCase.FunctionMetadataResponse => "metadata",
        StreamingMessage.ContentOneofCase.FunctionLoadResponse => "load:" + message.FunctionLoadResponse.FunctionId,
        StreamingMessage.ContentOneofCase.WorkerStatusResponse => "status:" + message.RequestId,
        _ => null,
    };

    private void Dispatch(StreamingMessage message)
    {
        switch (message.ContentCase)
        {
            case StreamingMessage.ContentOneofCase.None:
                return; // sent after an InvocationCancel or a WorkerTerminate
            case StreamingMessage.ContentOneofCase.RpcLog:
                WorkerLog.Write(workerLog, message.RpcLog);
                return;
            case StreamingMessage.ContentOneofCase.InvocationResponse:
                if (_invocations.TryRemove(message.InvocationResponse.InvocationId, out var invocation))
                {
                    invocation.TrySetResult(message.InvocationResponse);
                }

                return;
            default:
                if (KeyOf(message) is { } key && _requests.TryGetValue(key, out var request))
                {
                    request.TrySetResult(message);
                }

                return;
        }
    }

    private async Task WriteAsync(IServerStreamWriter<StreamingMessage> outgoing, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in _outgoing.Reader.ReadAllAsync(cancellationToken))
            {
                await outgoing.WriteAsync(message, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // closed
        }
        catch (Exception e) when (e is IOException or GrpcException or InvalidOperationException)
        {
            Close($"the worker's stream broke while writing ({e.Message})");
        }
    }

    private void FailAll(string reason)
    {
        foreach (var key in _invocations.Keys)
        {
            if (_invocations.TryRemove(key, out var invocation) && invocation.TrySetException(new WorkerGoneException(reason)))
            {
                Interlocked.Increment(ref _failed);
            }
        }

        foreach (var request in _requests.Values)
        {
            request.TrySetException(new WorkerGoneException(reason));
        }
    }
}
