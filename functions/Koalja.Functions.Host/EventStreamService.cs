using Grpc.Core;
using Koalja.Functions.Host.Rpc;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Host;

/// <summary>
/// The host's side of <c>FunctionRpc.EventStream</c>: every worker dials it; the first message, StartStream, names the
/// worker id the host started the process with, and the call then lasts as long as that worker's connection.
/// </summary>
internal sealed partial class EventStreamService(StreamRendezvous rendezvous, ILoggerFactory logs) : FunctionRpc.FunctionRpcBase
{
    private readonly ILogger _log = logs.CreateLogger<LocalFunctionsHost>();

    public override async Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken))
        {
            return;
        }

        if (requestStream.Current is not { ContentCase: StreamingMessage.ContentOneofCase.StartStream, StartStream.WorkerId: { Length: > 0 } workerId })
        {
            LogNoStartStream(_log, requestStream.Current.ContentCase.ToString());
            return;
        }

        if (!rendezvous.TryConnect(workerId, out var connection))
        {
            LogUnexpected(_log, workerId);
            return;
        }

        await connection.RunAsync(requestStream, responseStream, context.CancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A worker stream began with {Content}, not StartStream; it is closed")]
    private static partial void LogNoStartStream(ILogger log, string content);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A worker stream named worker id {WorkerId}, which no process started by this host has; it is closed")]
    private static partial void LogUnexpected(ILogger log, string workerId);
}
