using Koalja.Functions.Host.Rpc;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Host;

/// <summary>What a worker logs (<see cref="RpcLog"/>: the function's ILogger, the worker's own lines) onto the host's logger of that worker, <c>Koalja.Functions.&lt;name&gt;</c>.</summary>
internal static partial class WorkerLog
{
    public static void Write(ILogger log, RpcLog rpc)
    {
        var level = rpc.Level switch
        {
            RpcLog.Types.Level.Trace => LogLevel.Trace,
            RpcLog.Types.Level.Debug => LogLevel.Debug,
            RpcLog.Types.Level.Information => LogLevel.Information,
            RpcLog.Types.Level.Warning => LogLevel.Warning,
            RpcLog.Types.Level.Error => LogLevel.Error,
            RpcLog.Types.Level.Critical => LogLevel.Critical,
            _ => LogLevel.None,
        };
        if (level == LogLevel.None || !log.IsEnabled(level))
        {
            return;
        }

        var exception = rpc.Exception is { } e ? new WorkerException(e) : null;
        if (rpc.InvocationId is { Length: > 0 } invocation)
        {
            LogInvocation(log, level, exception, rpc.Category, invocation, rpc.Message);
        }
        else
        {
            LogWorker(log, level, exception, rpc.Category, rpc.Message);
        }
    }

    [LoggerMessage(Message = "{WorkerCategory}: {WorkerMessage}")]
    private static partial void LogWorker(ILogger log, LogLevel level, Exception? exception, string workerCategory, string workerMessage);

    [LoggerMessage(Message = "{WorkerCategory} (invocation {InvocationId}): {WorkerMessage}")]
    private static partial void LogInvocation(ILogger log, LogLevel level, Exception? exception, string workerCategory, string invocationId, string workerMessage);
}
