namespace Koalja.Functions.Host;

/// <summary>Front-door requests being served, so that stopping can refuse new ones and wait for those in flight.</summary>
internal sealed class InFlight
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _idle = Done();
    private int _count;
    private bool _stopping;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Counts a request in; false once stopping began (the request is to be refused).</summary>
    public bool TryEnter()
    {
        lock (_lock)
        {
            if (_stopping)
            {
                return false;
            }

            if (_count++ == 0)
            {
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return true;
        }
    }

    public void Exit()
    {
        TaskCompletionSource? idle = null;
        lock (_lock)
        {
            if (--_count == 0)
            {
                idle = _idle;
            }
        }

        idle?.TrySetResult();
    }

    /// <summary>Refuses new requests from now on and completes when none is in flight.</summary>
    public Task StopAsync()
    {
        lock (_lock)
        {
            _stopping = true;
            return _idle.Task;
        }
    }

    private static TaskCompletionSource Done()
    {
        var done = new TaskCompletionSource();
        done.SetResult();
        return done;
    }
}
