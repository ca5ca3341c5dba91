using Koalja.Core.Spec;
using Koalja.Core.Storage;

namespace Koalja.Tasks;

/// <summary>The task runtime: picks the runner for a task (a built-in type, or its executor command).</summary>
public sealed class TaskRuntime(IArtifactStore store, TaskRuntimeOptions options, TimeProvider time) : ITaskRunner
{
    private readonly CommandRunner _command = new(store, options, time);
    private readonly FileSplitRunner _fileSplit = new(store, time);

    /// <summary>Task types this runtime runs on snapshots (FileDrop is ingress: it never runs).</summary>
    public static readonly IReadOnlyList<string> RunnableTypes = [BuiltInTaskTypes.FileSplit];

    public Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var task = invocation.TaskSpec;
        return task.Type switch
        {
            BuiltInTaskTypes.FileSplit => _fileSplit.RunAsync(invocation, cancellationToken),
            _ when task.Executor is not null => _command.RunAsync(invocation, cancellationToken),
            _ => Task.FromResult(new TaskOutcome(false, [], time.GetUtcNow(), time.GetUtcNow(),
                Error: $"Task type '{task.Type}' cannot run here (this runtime runs executors and {string.Join(", ", RunnableTypes)})")),
        };
    }
}
