namespace Koalja.Core.Scaling;

/// <summary>What one replica of a task is doing: the snapshots it runs now, and since when the oldest of them runs.</summary>
public readonly record struct ReplicaWork(string Replica, int Running, DateTimeOffset? OldestSince);

/// <summary>
/// Scale-in safety: which replica goes first when a task scales in. An idle replica always goes before a busy one, and
/// among busy ones the one with the least work to lose (fewest snapshots, then the most recently started). The cost is
/// what the operator writes as a pod's <c>controller.kubernetes.io/pod-deletion-cost</c>: the ReplicaSet controller
/// removes the pods of the lowest cost first.
/// </summary>
public static class ScaleIn
{
    /// <summary>Seconds of running counted at most, so that costs stay apart per snapshot count.</summary>
    private const long MaxSecondsCounted = 86_400;

    /// <summary>0 for an idle replica; for a busy one, more with each snapshot it runs and with how long the oldest has run.</summary>
    public static int DeletionCost(ReplicaWork replica, DateTimeOffset now)
    {
        if (replica.Running <= 0)
        {
            return 0;
        }

        var seconds = replica.OldestSince is { } since ? Math.Clamp((long)(now - since).TotalSeconds, 0, MaxSecondsCounted) : 0;
        var cost = 1 + seconds + Math.Min(replica.Running, 20_000L) * (MaxSecondsCounted + 1);
        return (int)Math.Min(int.MaxValue, cost);
    }

    /// <summary>The <paramref name="count"/> replicas to remove first, cheapest first (ties by name, for a stable answer).</summary>
    public static IReadOnlyList<string> RemoveFirst(IEnumerable<ReplicaWork> replicas, int count, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return replicas.OrderBy(r => DeletionCost(r, now)).ThenBy(r => r.Replica, StringComparer.Ordinal).Take(count).Select(r => r.Replica).ToList();
    }
}
