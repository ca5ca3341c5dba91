using Koalja.Functions.Host.Rpc;

namespace Koalja.Functions.Host;

/// <summary>An exception a worker reported (<see cref="RpcException"/>), as a .NET exception for loggers: its type, message and stack trace as the worker sent them.</summary>
internal sealed class WorkerException(RpcException rpc) : Exception(rpc.Message)
{
    public string Type => rpc.Type;

    public override string? StackTrace => rpc.StackTrace;

    public override string? Source { get => rpc.Source; set { } }

    public override string ToString() =>
        $"{(rpc.Type is { Length: > 0 } type ? type : "Exception")}: {rpc.Message}{(rpc.StackTrace is { Length: > 0 } stack ? Environment.NewLine + stack : "")}";
}
