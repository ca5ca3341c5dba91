namespace Koalja.Router.Runtime;

/// <summary>
/// Whether the server is short of disk space or quota, by where a write failed for want of room (the registry, the
/// store, a task's working directory); each is cleared by the next write there that succeeds. <c>/healthz</c> reports it.
/// </summary>
public sealed class SpaceHealth(TimeProvider time)
{
    /// <summary>Where a drop or an event is written: the store and the registry.</summary>
    public const string Storage = "the server's storage";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _short = new(StringComparer.Ordinal);
    private volatile bool _any;

    /// <summary>What ran out of space first, and since when, of what has not had room since; null while writes succeed.</summary>
    public (string Where, DateTimeOffset Since)? Shortage
    {
        get
        {
            lock (_gate)
            {
                return _short.Count == 0 ? null : _short.OrderBy(s => s.Value).Select(s => (s.Key, s.Value)).First();
            }
        }
    }

    /// <summary>A write in <paramref name="where"/> failed for want of space (what failed is logged where it failed, not kept here).</summary>
    public void OutOfSpace(string where)
    {
        lock (_gate)
        {
            _short.TryAdd(where, time.GetUtcNow());
            _any = true;
        }
    }

    /// <summary>A write in <paramref name="where"/> succeeded: there is room there again.</summary>
    public void Room(string where)
    {
        if (!_any)
        {
            return; // the common case: no lock taken
        }

        lock (_gate)
        {
            _short.Remove(where);
            _any = _short.Count > 0;
        }
    }
}
