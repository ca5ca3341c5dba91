namespace Koalja.Router.Runtime;

/// <summary>
/// Whether the server is short of disk space or quota (its registry, its store, or a task's working directory): set by
/// whatever failed for want of room, cleared by the next write that succeeds. <c>/healthz</c> reports it.
/// </summary>
public sealed class SpaceHealth(TimeProvider time)
{
    private readonly Lock _gate = new();
    private (string Where, DateTimeOffset Since)? _short;

    /// <summary>What ran out of space, where, and since when; null while writes succeed.</summary>
    public (string Where, DateTimeOffset Since)? Shortage
    {
        get
        {
            lock (_gate)
            {
                return _short;
            }
        }
    }

    /// <summary>A write in <paramref name="where"/> failed for want of space (what failed is logged where it failed, not kept here).</summary>
    public void OutOfSpace(string where)
    {
        lock (_gate)
        {
            _short = (where, _short?.Since ?? time.GetUtcNow());
        }
    }

    /// <summary>A write succeeded: there is room again.</summary>
    public void Room()
    {
        if (_short is null)
        {
            return; // the common case: no lock taken
        }

        lock (_gate)
        {
            _short = null;
        }
    }
}
