using Koalja.Core.Spec;

namespace Koalja.Core.Scaling;

/// <summary>
/// The work a task has that can run now: snapshots that are ready (made by its assembler, not started) and
/// executions in flight (running, or waiting out a retry's back-off). Values waiting in a link for a window
/// that is not full are not work: they cannot run.
/// </summary>
public readonly record struct TaskLoad(int Ready, int InFlight)
{
    public int Work => Ready + InFlight;
}

/// <summary>Bounds of a task's replicas (pods in the cluster, worker slots in <c>koalja up</c>).</summary>
/// <param name="MinReplicas">Replicas kept even without work (0: scale to zero).</param>
/// <param name="MaxReplicas">Most replicas; an order-sensitive task gets at most one whatever this says.</param>
/// <param name="TargetPerReplica">Snapshots (ready plus in flight) one replica is meant to carry.</param>
public sealed record ScalingLimits(int MinReplicas, int MaxReplicas, int TargetPerReplica)
{
    /// <summary>What is wrong with these bounds, each naming the bound and its value.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (MinReplicas < 0)
        {
            problems.Add($"the least number of replicas must not be negative; it is {MinReplicas}");
        }

        if (MaxReplicas < 1)
        {
            problems.Add($"the most replicas must be at least 1; it is {MaxReplicas}");
        }
        else if (MinReplicas > MaxReplicas)
        {
            problems.Add($"the least number of replicas ({MinReplicas}) must not be more than the most ({MaxReplicas})");
        }

        if (TargetPerReplica < 1)
        {
            problems.Add($"the snapshots per replica must be at least 1; it is {TargetPerReplica}");
        }

        return problems;
    }
}

/// <summary>
/// How many replicas a task wants: one pure function, used by the KEDA scaler in the cluster and for the worker
/// slots of <c>koalja up</c>. Order-sensitive tasks run on one replica, so that their snapshots run in order.
/// </summary>
public static class ScalingDecision
{
    /// <summary>The largest <c>maxReplicas</c> a task may write (and the scaler's <c>maxReplicas</c> accepts).</summary>
    public const int MostReplicas = 10_000;

    /// <summary>
    /// The limits of <paramref name="task"/>: at most its <c>maxReplicas</c> when it sets one, else
    /// <paramref name="defaultMaxReplicas"/>, and never more than <paramref name="ceiling"/> (<c>koalja up</c>'s
    /// <c>--slots</c>, the machine's bound); <paramref name="minReplicas"/> no more than that. The order-sensitive
    /// cap of one is <see cref="MaxReplicas(bool, ScalingLimits)"/>'s, on top.
    /// </summary>
    public static ScalingLimits LimitsFor(TaskSpec task, int minReplicas, int defaultMaxReplicas, int targetPerReplica, int ceiling = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(task);
        var max = (int)Math.Min(task.MaxReplicas is { } own and >= 1 ? Math.Min(own, MostReplicas) : defaultMaxReplicas, ceiling);
        return new ScalingLimits(Math.Min(minReplicas, max), max, targetPerReplica);
    }

    /// <summary>
    /// A task whose snapshots must run one after another: a sliding window or a swap (each snapshot follows the one
    /// before), or a launch policy other than Auto (Restart cancels the running execution for the next snapshot;
    /// Custom runs one long-lived executor).
    /// </summary>
    public static bool IsOrderSensitive(TaskSpec task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.EffectiveSnapshotPolicy != SnapshotPolicy.AllNew || task.EffectiveLaunchPolicy != LaunchPolicy.Auto;
    }

    /// <summary>The most replicas the task may have under <paramref name="limits"/>.</summary>
    public static int MaxReplicas(bool orderSensitive, ScalingLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return orderSensitive ? Math.Min(1, limits.MaxReplicas) : limits.MaxReplicas;
    }

    /// <summary>
    /// Replicas for <paramref name="load"/>: enough that each carries at most <see cref="ScalingLimits.TargetPerReplica"/>
    /// snapshots, at least one while there is any work (an execution in flight is never left without its replica),
    /// within the limits; <see cref="ScalingLimits.MinReplicas"/> without work.
    /// </summary>
    public static int DesiredReplicas(TaskLoad load, bool orderSensitive, ScalingLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var max = MaxReplicas(orderSensitive, limits);
        var min = Math.Min(limits.MinReplicas, max);
        var work = Math.Max(0L, (long)load.Ready) + Math.Max(0L, load.InFlight);
        if (work == 0)
        {
            return min;
        }

        var wanted = (work + limits.TargetPerReplica - 1) / limits.TargetPerReplica;
        return (int)Math.Clamp(wanted, Math.Max(min, 1), max);
    }

    /// <summary>
    /// The metric to report to an autoscaler that divides it by <see cref="ScalingLimits.TargetPerReplica"/> (KEDA's
    /// <c>AverageValue</c>): the work, capped so that the division gives no more than <see cref="DesiredReplicas"/>.
    /// </summary>
    public static long ScalingMetric(TaskLoad load, bool orderSensitive, ScalingLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var work = Math.Max(0L, (long)load.Ready) + Math.Max(0L, load.InFlight);
        return Math.Min(work, (long)DesiredReplicas(load, orderSensitive, limits) * limits.TargetPerReplica);
    }

    /// <summary>Active (a replica is wanted at all): any snapshot is ready or in flight.</summary>
    public static bool IsActive(TaskLoad load) => load.Ready > 0 || load.InFlight > 0;
}
