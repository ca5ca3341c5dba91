using Koalja.Core.Scaling;

namespace Koalja.Scaler;

/// <summary>Where the scaler learns a task's load: the router that runs it.</summary>
public interface ITaskLoadSource
{
    /// <summary>The task the target names, or why it cannot be scaled from here.</summary>
    TaskLookup Find(ScalerTarget target);
}

/// <summary>A task whose replicas follow its load.</summary>
public interface IScalableTask
{
    /// <summary>Its snapshots run one after another (at most one replica).</summary>
    bool OrderSensitive { get; }

    /// <summary>Ready snapshots and executions in flight now.</summary>
    TaskLoad Load { get; }

    /// <summary>Calls <paramref name="changed"/> (quickly, never throwing) whenever <see cref="Load"/> changes; dispose to stop.</summary>
    IDisposable Watch(Action changed);
}

/// <summary>A found task, or what is wrong with the target and why.</summary>
public readonly record struct TaskLookup(IScalableTask? Task, TaskLookupProblem Problem, string? Message)
{
    public static TaskLookup Found(IScalableTask task) => new(task, TaskLookupProblem.None, null);

    public static TaskLookup Failed(TaskLookupProblem problem, string message) => new(null, problem, message);
}

public enum TaskLookupProblem
{
    None,

    /// <summary>This router does not route that pipeline (or not in that namespace), or the pipeline has no such task.</summary>
    NotFound,

    /// <summary>The task exists but runs no snapshots (a FileDrop, a task without inputs): there is nothing to scale.</summary>
    NotScalable,
}
