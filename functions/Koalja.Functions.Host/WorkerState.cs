namespace Koalja.Functions.Host;

/// <summary>What a worker can do right now: take invocations (<see cref="Ready"/>), or not (<see cref="Unavailable"/>, saying why).</summary>
internal abstract record WorkerState
{
    public sealed record Ready(WorkerConnection Connection, FunctionTable Functions, WorkerProcess Process) : WorkerState;

    public sealed record Unavailable(string Reason) : WorkerState;
}
