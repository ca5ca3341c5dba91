using Koalja.Core.Contract;
namespace Koalja.Tasks;

/// <summary>Runs one execution of a task. Never throws for a failing task: failure is an outcome.</summary>
public interface ITaskRunner
{
    Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken);
}
