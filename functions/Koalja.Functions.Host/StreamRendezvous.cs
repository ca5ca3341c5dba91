using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Host;

/// <summary>Where a worker process just started meets its EventStream: the host expects a worker id, the stream's StartStream names it.</summary>
internal sealed class StreamRendezvous
{
    private readonly ConcurrentDictionary<string, (TaskCompletionSource<WorkerConnection> Arrival, ILogger WorkerLog)> _expected = new(StringComparer.Ordinal);

    /// <summary>Completes when a stream whose StartStream names <paramref name="workerId"/> arrives; the worker's RpcLog goes to <paramref name="workerLog"/>.</summary>
    public Task<WorkerConnection> Expect(string workerId, ILogger workerLog)
    {
        var arrival = new TaskCompletionSource<WorkerConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        _expected[workerId] = (arrival, workerLog);
        return arrival.Task;
    }

    /// <summary>Stops expecting a worker id (its process is gone, or its start was given up).</summary>
    public void Forget(string workerId) => _expected.TryRemove(workerId, out _);

    /// <summary>The connection of a stream that just named <paramref name="workerId"/>, handed to the launch waiting for it; false for an id nobody expects.</summary>
    public bool TryConnect(string workerId, [NotNullWhen(true)] out WorkerConnection? connection)
    {
        connection = null;
        if (!_expected.TryRemove(workerId, out var expected))
        {
            return false;
        }

        connection = new WorkerConnection(workerId, expected.WorkerLog);
        return expected.Arrival.TrySetResult(connection);
    }
}
