namespace Koalja.Core.Scaling;

/// <summary>
/// Turns the instantaneous decision into replicas that scale up at once and down only after a cooldown: the
/// replicas at a moment are the most recommended during the cooldown before it (as the Kubernetes HPA's
/// scale-down stabilisation window does), so a task falls to zero only when it has had no work for a whole
/// cooldown. Not thread-safe: its owner serialises the calls. Time is passed in, so it runs on any clock.
/// </summary>
public sealed class ReplicaPlanner
{
    private readonly TimeSpan _cooldown;
    private readonly LinkedList<(int Replicas, DateTimeOffset Until)> _earlier = new(); // recommendations that ended, replicas decreasing
    private int _current;

    public ReplicaPlanner(TimeSpan cooldown, int initial = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cooldown, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(initial);
        _cooldown = cooldown;
        _current = initial;
    }

    public TimeSpan Cooldown => _cooldown;

    /// <summary>Records that <paramref name="replicas"/> is recommended from <paramref name="now"/> on; returns the replicas wanted now.</summary>
    public int Recommend(int replicas, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(replicas);
        if (replicas != _current)
        {
            // An earlier recommendation no larger than the one that ends now also ends sooner: it can never be the most.
            while (_earlier.Last is { } last && last.Value.Replicas <= _current)
            {
                _earlier.RemoveLast();
            }

            _earlier.AddLast((_current, now));
            _current = replicas;
        }

        return Replicas(now);
    }

    /// <summary>The replicas wanted at <paramref name="now"/>: the most recommended in the cooldown up to it.</summary>
    public int Replicas(DateTimeOffset now)
    {
        while (_earlier.First is { } first && first.Value.Until + _cooldown <= now)
        {
            _earlier.RemoveFirst();
        }

        return Math.Max(_current, _earlier.First?.Value.Replicas ?? 0);
    }

    /// <summary>When the replicas wanted will next fall without a new recommendation (null: they will not).</summary>
    public DateTimeOffset? NextFall(DateTimeOffset now)
    {
        Replicas(now);
        return _earlier.First is { } first && first.Value.Replicas > _current ? first.Value.Until + _cooldown : null;
    }
}
