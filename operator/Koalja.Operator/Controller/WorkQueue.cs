using System.Threading.Channels;

namespace Koalja.Operator.Controller;

/// <summary>
/// The keys waiting for a reconcile, as client-go's work queue keeps them: a key is queued at most once however
/// often it is added; a key being reconciled is not handed out again until it is done, and if it was added meanwhile
/// it is queued again then (so no change is lost and no key runs twice at once); failures back off exponentially per
/// key, and a success forgets them.
/// </summary>
internal sealed class WorkQueue<TKey>(TimeProvider time, TimeSpan baseDelay, TimeSpan maxDelay)
    where TKey : notnull
{
    private readonly Channel<TKey> _ready = Channel.CreateUnbounded<TKey>();
    private readonly HashSet<TKey> _queued = [];
    private readonly HashSet<TKey> _processing = [];
    private readonly HashSet<TKey> _dirty = [];
    private readonly Dictionary<TKey, int> _failures = [];
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queued.Count;
            }
        }
    }

    public void Add(TKey key)
    {
        lock (_lock)
        {
            if (_processing.Contains(key))
            {
                _dirty.Add(key);
                return;
            }

            if (_queued.Add(key))
            {
                _ready.Writer.TryWrite(key);
            }
        }
    }

    /// <summary>Adds the key after <paramref name="delay"/> (at once when it is zero or less).</summary>
    public void AddAfter(TKey key, TimeSpan delay, CancellationToken ct)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }

        _ = Task.Delay(delay, time, ct).ContinueWith(t =>
        {
            if (!t.IsCanceled)
            {
                Add(key);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Adds the key again after its back-off, which doubles with each failure in a row.</summary>
    public void AddRateLimited(TKey key, CancellationToken ct)
    {
        int failures;
        lock (_lock)
        {
            failures = _failures[key] = _failures.GetValueOrDefault(key) + 1;
        }

        var delay = TimeSpan.FromTicks(Math.Min(maxDelay.Ticks, baseDelay.Ticks * (1L << Math.Min(failures - 1, 30))));
        AddAfter(key, delay, ct);
    }

    /// <summary>The key succeeded: its back-off starts over.</summary>
    public void Forget(TKey key)
    {
        lock (_lock)
        {
            _failures.Remove(key);
        }
    }

    public int Failures(TKey key)
    {
        lock (_lock)
        {
            return _failures.GetValueOrDefault(key);
        }
    }

    /// <summary>The next key to reconcile; the caller calls <see cref="Done"/> when it is finished with it.</summary>
    public async ValueTask<TKey> TakeAsync(CancellationToken ct)
    {
        while (true)
        {
            var key = await _ready.Reader.ReadAsync(ct).ConfigureAwait(false);
            lock (_lock)
            {
                if (_queued.Remove(key))
                {
                    _processing.Add(key);
                    return key;
                }
            }
        }
    }

    public void Done(TKey key)
    {
        lock (_lock)
        {
            _processing.Remove(key);
            if (_dirty.Remove(key) && _queued.Add(key))
            {
                _ready.Writer.TryWrite(key);
            }
        }
    }
}
