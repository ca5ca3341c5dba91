using FsCheck.Xunit;
using Koalja.Core.Scaling;
using Koalja.Core.Spec;
using PolicyTasks = Koalja.Core.Tests.Policies.Tasks;

namespace Koalja.Core.Tests.Scaling;

public sealed class ScalingDecisionTests
{
    private static readonly ScalingLimits ToTen = new(0, 10, 5);

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 0, 1)]   // any work wakes one replica
    [InlineData(0, 1, 1)]   // an execution in flight keeps its replica
    [InlineData(5, 0, 1)]
    [InlineData(6, 0, 2)]
    [InlineData(3, 7, 2)]
    [InlineData(49, 1, 10)]
    [InlineData(500, 0, 10)] // capped at the most
    public void ABatchTaskWantsOneReplicaPerTargetOfWork(int ready, int inFlight, int expected) =>
        Assert.Equal(expected, ScalingDecision.DesiredReplicas(new TaskLoad(ready, inFlight), orderSensitive: false, ToTen));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(500, 1)]
    public void AnOrderSensitiveTaskNeverWantsMoreThanOne(int ready, int expected) =>
        Assert.Equal(expected, ScalingDecision.DesiredReplicas(new TaskLoad(ready, 0), orderSensitive: true, ToTen));

    [Fact]
    public void TheLeastReplicasAreKeptWithoutWorkAndAnOrderSensitiveTaskKeepsAtMostOne()
    {
        var limits = new ScalingLimits(2, 10, 1);
        Assert.Equal(2, ScalingDecision.DesiredReplicas(new TaskLoad(0, 0), false, limits));
        Assert.Equal(2, ScalingDecision.DesiredReplicas(new TaskLoad(1, 0), false, limits));
        Assert.Equal(1, ScalingDecision.DesiredReplicas(new TaskLoad(0, 0), true, limits));
    }

    [Theory]
    [InlineData(SnapshotPolicy.AllNew, LaunchPolicy.Auto, false)]
    [InlineData(SnapshotPolicy.SlidingWindow, LaunchPolicy.Auto, true)]
    [InlineData(SnapshotPolicy.SwapNew4Old, LaunchPolicy.Auto, true)]
    [InlineData(SnapshotPolicy.AllNew, LaunchPolicy.Restart, true)]
    [InlineData(SnapshotPolicy.AllNew, LaunchPolicy.Custom, true)]
    public void OrderSensitiveTasksAreThoseWhoseSnapshotsFollowEachOther(SnapshotPolicy policy, LaunchPolicy launch, bool expected)
    {
        var task = PolicyTasks.Task(policy, PolicyTasks.Input("a")) with { LaunchPolicy = launch.ToString() };
        Assert.Equal(expected, ScalingDecision.IsOrderSensitive(task));
    }

    [Property(MaxTest = 500)]
    public bool TheMetricDividedByTheTargetGivesTheDecision(int ready, int inFlight, byte max, byte target, bool orderSensitive)
    {
        var limits = new ScalingLimits(0, 1 + (max % 50), 1 + (target % 20));
        var load = new TaskLoad(Math.Abs(ready % 100_000), Math.Abs(inFlight % 1000));
        var metric = ScalingDecision.ScalingMetric(load, orderSensitive, limits);
        var hpa = (metric + limits.TargetPerReplica - 1) / limits.TargetPerReplica; // what an AverageValue autoscaler computes
        return hpa == ScalingDecision.DesiredReplicas(load, orderSensitive, limits)
            && ScalingDecision.IsActive(load) == (metric > 0);
    }

    [Theory]
    [InlineData(null, 10, 10)]   // no maxReplicas: the default
    [InlineData(3L, 10, 3)]      // the task's own caps it
    [InlineData(25L, 10, 25)]    // and replaces the default, which is only a default
    public void ATasksMaxReplicasIsItsMostReplicas(long? maxReplicas, int defaultMax, int expected)
    {
        var task = PolicyTasks.Task(SnapshotPolicy.AllNew, PolicyTasks.Input("a")) with { MaxReplicas = maxReplicas };
        var limits = ScalingDecision.LimitsFor(task, 0, defaultMax, 5);
        Assert.Equal(expected, limits.MaxReplicas);
        Assert.Equal(expected, ScalingDecision.MaxReplicas(ScalingDecision.IsOrderSensitive(task), limits));
        Assert.Equal(expected, ScalingDecision.DesiredReplicas(new TaskLoad(10_000, 0), false, limits));
        Assert.Empty(limits.Problems());
    }

    [Fact]
    public void AnOrderSensitiveTaskStaysAtOneWhateverItsMaxReplicasSays()
    {
        var task = PolicyTasks.Task(SnapshotPolicy.SlidingWindow, PolicyTasks.Input("a", required: 2)) with { MaxReplicas = 8 };
        var limits = ScalingDecision.LimitsFor(task, 0, 10, 1);
        Assert.Equal(1, ScalingDecision.MaxReplicas(ScalingDecision.IsOrderSensitive(task), limits));
        Assert.Equal(1, ScalingDecision.DesiredReplicas(new TaskLoad(50, 0), ScalingDecision.IsOrderSensitive(task), limits));
    }

    [Fact]
    public void ACeilingBoundsTheTasksOwnMaxAndTheLeastReplicasFollow()
    {
        var task = PolicyTasks.Task(SnapshotPolicy.AllNew, PolicyTasks.Input("a")) with { MaxReplicas = 50 };
        Assert.Equal(4, ScalingDecision.LimitsFor(task, 0, 4, 1, ceiling: 4).MaxReplicas); // koalja up --slots 4
        Assert.Equal(2, ScalingDecision.LimitsFor(task with { MaxReplicas = 2 }, 0, 4, 1, ceiling: 4).MaxReplicas);
        var kept = ScalingDecision.LimitsFor(task with { MaxReplicas = 2 }, 5, 10, 1);
        Assert.Equal((2, 2), (kept.MinReplicas, kept.MaxReplicas));
        Assert.Empty(kept.Problems());
    }

    [Fact]
    public void BadLimitsAreNamed()
    {
        var problems = new ScalingLimits(-1, 0, 0).Problems();
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("negative", StringComparison.Ordinal));
        Assert.Single(new ScalingLimits(5, 2, 1).Problems(), p => p.Contains("(5) must not be more than the most (2)", StringComparison.Ordinal));
    }
}

public sealed class ReplicaPlannerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Cooldown = TimeSpan.FromSeconds(30);

    [Fact]
    public void UpAtOnceDownOnlyAfterTheCooldown()
    {
        var planner = new ReplicaPlanner(Cooldown);
        Assert.Equal(4, planner.Recommend(4, T0));
        Assert.Equal(8, planner.Recommend(8, T0.AddSeconds(1)));
        Assert.Equal(8, planner.Recommend(2, T0.AddSeconds(2)));
        Assert.Equal(8, planner.Recommend(0, T0.AddSeconds(3)));
        Assert.Equal(T0.AddSeconds(32), planner.NextFall(T0.AddSeconds(10)));
        Assert.Equal(8, planner.Replicas(T0.AddSeconds(31.9)));
        Assert.Equal(2, planner.Replicas(T0.AddSeconds(32)));   // 8 ended at +2 s; 2 ended at +3 s
        Assert.Equal(0, planner.Replicas(T0.AddSeconds(33)));
        Assert.Null(planner.NextFall(T0.AddSeconds(33)));
    }

    [Property(MaxTest = 300)]
    public bool TheReplicasAreTheMostRecommendedWithinTheCooldown(byte[] steps)
    {
        var planner = new ReplicaPlanner(Cooldown);
        var history = new List<(DateTimeOffset At, int Replicas)> { (T0.AddDays(-1), 0) };
        var now = T0;
        foreach (var step in steps ?? [])
        {
            now += TimeSpan.FromSeconds(step % 17);
            var replicas = step % 9;
            history.Add((now, replicas));
            var got = planner.Recommend(replicas, now);
            if (got != Reference(history, now))
            {
                return false;
            }
        }

        for (var later = 0; later < 40; later += 3)
        {
            if (planner.Replicas(now.AddSeconds(later)) != Reference(history, now.AddSeconds(later)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The most of every recommendation in force at some moment of (at - cooldown, at], even for no time (made and replaced at one instant).</summary>
    private static int Reference(List<(DateTimeOffset At, int Replicas)> history, DateTimeOffset at)
    {
        var most = 0;
        for (var i = 0; i < history.Count; i++)
        {
            var until = i + 1 < history.Count ? history[i + 1].At : DateTimeOffset.MaxValue;
            if (history[i].At <= at && until > at - Cooldown)
            {
                most = Math.Max(most, history[i].Replicas);
            }
        }

        return most;
    }
}

public sealed class ScaleInTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AnIdleReplicaCostsNothingAndGoesFirst()
    {
        var replicas = new[]
        {
            new ReplicaWork("busy-long", 1, Now.AddMinutes(-5)),
            new ReplicaWork("idle", 0, null),
            new ReplicaWork("busy-two", 2, Now.AddSeconds(-1)),
            new ReplicaWork("busy-new", 1, Now.AddSeconds(-1)),
        };
        Assert.Equal(0, ScaleIn.DeletionCost(replicas[1], Now));
        Assert.Equal(["idle"], ScaleIn.RemoveFirst(replicas, 1, Now));
        Assert.Equal(["idle", "busy-new", "busy-long", "busy-two"], ScaleIn.RemoveFirst(replicas, 4, Now));
    }

    [Property(MaxTest = 300)]
    public bool ABusyReplicaIsNeverRemovedWhileAnIdleOneStays(byte[] running, byte[] ages, byte remove)
    {
        var replicas = (running ?? []).Select((r, i) => new ReplicaWork($"r{i}", r % 4,
            r % 4 == 0 ? null : Now.AddSeconds(-(ages is { Length: > 0 } a ? a[i % a.Length] * 1000 : 0)))).ToList();
        var removed = ScaleIn.RemoveFirst(replicas, remove % (replicas.Count + 1), Now).ToHashSet();
        var busyRemoved = replicas.Any(r => r.Running > 0 && removed.Contains(r.Replica));
        var idleKept = replicas.Any(r => r.Running == 0 && !removed.Contains(r.Replica));
        return !(busyRemoved && idleKept) && replicas.All(r => (ScaleIn.DeletionCost(r, Now) == 0) == (r.Running == 0));
    }
}
