using Koalja.Core.Contract;

namespace Koalja.Tasks;

/// <summary>
/// The task function's side of the contract, the same in process (<c>koalja up</c>) and behind HTTP (the Functions
/// app): it receives an <c>io.koalja.snapshot</c> event, runs the execution it asks for, and answers the batch of
/// <c>io.koalja.value</c> + <c>io.koalja.execution</c> events, or a problem (a failed execution; a refused event).
/// </summary>
/// <param name="worker">Who runs the executions, as the answers report it (a task pod's name); null: the caller names it.</param>
public sealed class TaskHost(ITaskRunner runner, TimeProvider time, string? worker = null)
{
    /// <summary>Runs the snapshot a structured-mode event asks for.</summary>
    public Task<ContractMessage> HandleAsync(ContractMessage snapshot, CancellationToken cancellationToken) =>
        RunAsync(() => SnapshotEvents.Decode(snapshot), cancellationToken);

    /// <summary>Runs the snapshot an HTTP request carries, in structured or binary mode (<see cref="SnapshotEvents.DecodeHttp"/>).</summary>
    public Task<ContractMessage> HandleHttpAsync(string? contentType, IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> headers, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        RunAsync(() => SnapshotEvents.DecodeHttp(contentType, headers, body), cancellationToken);

    private async Task<ContractMessage> RunAsync(Func<TaskInvocation> decode, CancellationToken cancellationToken)
    {
        TaskInvocation invocation;
        try
        {
            invocation = decode();
        }
        catch (FormatException e)
        {
            return ExecutionAnswers.Refusal(e.Message, time.GetUtcNow());
        }

        TaskOutcome outcome;
        try
        {
            outcome = await runner.RunAsync(invocation, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var now = time.GetUtcNow();
            outcome = new TaskOutcome(false, [], now, now, Error: $"the task runtime failed: {e.Message}");
        }

        return ExecutionAnswers.Answer(invocation, worker is null || outcome.Worker is not null ? outcome : outcome with { Worker = worker });
    }
}

/// <summary>Reaches a task function in this process: the snapshot goes through the contract's bytes as it would over HTTP.</summary>
public sealed class InProcessTaskFunction(TaskHost host) : ITaskRunner
{
    public async Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var answer = await host.HandleAsync(SnapshotEvents.Encode(invocation), cancellationToken);
        return ExecutionAnswers.Read(answer);
    }
}
