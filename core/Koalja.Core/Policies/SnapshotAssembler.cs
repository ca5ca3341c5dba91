using Koalja.Core.Spec;

namespace Koalja.Core.Policies;

/// <summary>
/// Decides when a task runs and on which values (docs/policies.md). Applies events one at a time and
/// answers with the snapshots that became ready and the values that became consumed. No I/O and no
/// clock: the same events from the same state always give the same results, and the state can be
/// exported as plain data (<see cref="ExportState"/>) and reloaded exactly (<see cref="FromState"/>).
/// </summary>
/// <remarks>
/// A value is held by its slot (the input's buffer, or its link while the buffer is full) and by every
/// unfinished snapshot that contains it. It is consumed when nothing holds it any more: it has left
/// the buffer, so no later snapshot can contain it, and every snapshot containing it has finished.
/// A snapshot finishes when it succeeds or is dead-lettered; a failure that will be retried keeps it.
/// Not thread-safe: one assembler per task, driven by one writer.
/// </remarks>
public sealed class SnapshotAssembler : IDisposable
{
    private readonly string _task;
    private string _codeVersion;
    private readonly SnapshotPolicy _policy;
    private readonly Stream[] _streams;
    private readonly Dictionary<string, int> _streamOfInput = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingEntry> _outstanding = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Input, string ValueId), int> _holders = [];
    private readonly SnapshotIdBuilder _ids = new();
    private readonly List<Snapshot> _ready = [];
    private readonly List<ArrivedValue> _consumed = [];
    private readonly List<ArrivedValue> _unqueued = [];
    private long _nextArrival;
    private long _nextSequence;

    /// <param name="task">A task of a validated pipeline, with at least one snapshot input.</param>
    /// <param name="codeVersion">The task's current code version; it is part of every snapshot id.</param>
    public SnapshotAssembler(TaskSpec task, string codeVersion)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentException.ThrowIfNullOrEmpty(codeVersion);
        _task = task.Name;
        _codeVersion = codeVersion;
        _policy = task.EffectiveSnapshotPolicy;
        _streams = task.SnapshotInputs.Select(i => new Stream(i.Name, (int)i.MinLength, (int)i.MaxLength, (int)i.SlideLength)).ToArray();
        if (_streams.Length == 0)
        {
            throw new ArgumentException($"Task '{task.Name}' has no snapshot inputs; it never runs on snapshots.", nameof(task));
        }

        for (var s = 0; s < _streams.Length; s++)
        {
            _streamOfInput[_streams[s].Input] = s;
        }

        foreach (var merged in task.Inputs.Where(i => i.IsMerged))
        {
            _streamOfInput[merged.Name] = _streamOfInput[merged.MergeInto!];
        }
    }

    /// <summary>
    /// The code version new snapshots are made for (part of their ids). Changing it (new code dropped
    /// into the task) leaves snapshots already handed out as they are: each runs with the code it was made for.
    /// </summary>
    public string CodeVersion
    {
        get => _codeVersion;
        set
        {
            ArgumentException.ThrowIfNullOrEmpty(value);
            _codeVersion = value;
        }
    }

    /// <summary>The arrival number the next new value will get.</summary>
    public long NextArrival => _nextArrival;

    /// <summary>Number of snapshots handed out and not finished.</summary>
    public int OutstandingCount => _outstanding.Count;

    /// <summary>Rebuilds an assembler from exported state; the task and code version must be those it was exported with.</summary>
    public static SnapshotAssembler FromState(TaskSpec task, string codeVersion, AssemblerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var assembler = new SnapshotAssembler(task, codeVersion);
        assembler.Load(state);
        return assembler;
    }

    /// <summary>
    /// Applies one event. The lists in the result are reused by the next call: copy them to keep them.
    /// </summary>
    public AssemblyResult Apply(AssemblerEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        _ready.Clear();
        _consumed.Clear();
        _unqueued.Clear();
        switch (e)
        {
            case ValueArrived arrived:
                Arrive(arrived);
                break;
            case SnapshotSucceeded succeeded:
                Finish(succeeded.SnapshotId);
                break;
            case SnapshotDeadLettered deadLettered:
                Finish(deadLettered.SnapshotId);
                break;
            case SnapshotFailed failed when _outstanding.TryGetValue(failed.SnapshotId, out var pending):
                pending.Failures++;
                break;
        }

        return new AssemblyResult(_ready, _consumed, _unqueued);
    }

    /// <summary>Whether a value that arrived on <paramref name="input"/> is still held (buffered, waiting in its link, or in an unfinished snapshot).</summary>
    public bool IsHeld(string input, string valueId) => _holders.ContainsKey((input, valueId));

    public AssemblerState ExportState() => new(
        _nextArrival,
        _nextSequence,
        _streams.Select(s => new StreamState(s.Input, s.Buffer.ToArray(), s.Waiting.ToArray())).ToArray(),
        _outstanding.Values.OrderBy(p => p.Snapshot.Sequence).Select(p => new PendingSnapshot(p.Snapshot, p.Failures)).ToArray());

    public void Dispose() => _ids.Dispose();

    private void Arrive(ValueArrived arrived)
    {
        if (!_streamOfInput.TryGetValue(arrived.Input, out var s))
        {
            throw new ArgumentException($"Task '{_task}' has no input '{arrived.Input}'.", nameof(arrived));
        }

        if (_holders.ContainsKey((arrived.Input, arrived.ValueId)))
        {
            return; // a redelivery of a value still held on this input: nothing new
        }

        var value = new ArrivedValue(arrived.ValueId, arrived.Input, _nextArrival++);
        var stream = _streams[s];
        Hold(value);
        if (_policy == SnapshotPolicy.SwapNew4Old)
        {
            // The new value replaces the input's old one, which no later snapshot can contain.
            foreach (var old in stream.Buffer)
            {
                _unqueued.Add(old);
                Release(old);
            }

            stream.Buffer.Clear();
            stream.Buffer.Add(value);
            if (AllReady())
            {
                Take();
            }

            return;
        }

        if (stream.Buffer.Count < stream.Max)
        {
            stream.Buffer.Add(value);
        }
        else
        {
            stream.Waiting.Enqueue(value);
        }

        while (AllReady())
        {
            Take();
            Advance();
        }
    }

    private bool AllReady()
    {
        foreach (var stream in _streams)
        {
            if (stream.Buffer.Count < stream.Min)
            {
                return false;
            }
        }

        return true;
    }

    private void Take()
    {
        var inputs = new SnapshotInput[_streams.Length];
        for (var s = 0; s < _streams.Length; s++)
        {
            var values = _streams[s].Buffer.ToArray();
            foreach (var value in values)
            {
                Hold(value);
            }

            inputs[s] = new SnapshotInput(_streams[s].Input, values);
        }

        var snapshot = new Snapshot(_ids.Compute(_task, _codeVersion, inputs), _nextSequence++, inputs);
        _outstanding[snapshot.Id] = new PendingEntry(snapshot);
        _ready.Add(snapshot);
    }

    /// <summary>After a snapshot: values leave the buffers by policy, and waiting values move in.</summary>
    private void Advance()
    {
        foreach (var stream in _streams)
        {
            var leaving = _policy == SnapshotPolicy.SlidingWindow ? Math.Min(stream.Slide, stream.Buffer.Count) : stream.Buffer.Count;
            for (var i = 0; i < leaving; i++)
            {
                _unqueued.Add(stream.Buffer[i]);
                Release(stream.Buffer[i]);
            }

            stream.Buffer.RemoveRange(0, leaving);
            while (stream.Buffer.Count < stream.Max && stream.Waiting.Count > 0)
            {
                stream.Buffer.Add(stream.Waiting.Dequeue());
            }
        }
    }

    private void Finish(string snapshotId)
    {
        if (!_outstanding.Remove(snapshotId, out var pending))
        {
            return; // unknown or already finished: finishing is idempotent
        }

        foreach (var input in pending.Snapshot.Inputs)
        {
            foreach (var value in input.Values)
            {
                Release(value);
            }
        }
    }

    private void Hold(ArrivedValue value)
    {
        var key = (value.Input, value.ValueId);
        _holders[key] = _holders.GetValueOrDefault(key) + 1;
    }

    private void Release(ArrivedValue value)
    {
        var key = (value.Input, value.ValueId);
        var left = _holders[key] - 1;
        if (left > 0)
        {
            _holders[key] = left;
            return;
        }

        _holders.Remove(key);
        _consumed.Add(value);
    }

    private void Load(AssemblerState state)
    {
        if (state.Streams.Count != _streams.Length || state.Streams.Where((s, i) => s.Input != _streams[i].Input).Any())
        {
            throw new ArgumentException($"The state does not match the inputs of task '{_task}'.", nameof(state));
        }

        _nextArrival = state.NextArrival;
        _nextSequence = state.NextSequence;
        for (var s = 0; s < _streams.Length; s++)
        {
            foreach (var value in state.Streams[s].Buffer)
            {
                _streams[s].Buffer.Add(value);
                Hold(value);
            }

            foreach (var value in state.Streams[s].Waiting)
            {
                _streams[s].Waiting.Enqueue(value);
                Hold(value);
            }
        }

        foreach (var pending in state.Outstanding)
        {
            _outstanding[pending.Snapshot.Id] = new PendingEntry(pending.Snapshot) { Failures = pending.Failures };
            foreach (var value in pending.Snapshot.Values)
            {
                Hold(value);
            }
        }
    }

    private sealed class Stream(string input, int min, int max, int slide)
    {
        public string Input { get; } = input;

        public int Min { get; } = min;

        public int Max { get; } = max;

        public int Slide { get; } = slide;

        public List<ArrivedValue> Buffer { get; } = new(max);

        public Queue<ArrivedValue> Waiting { get; } = new();
    }

    private sealed class PendingEntry(Snapshot snapshot)
    {
        public Snapshot Snapshot { get; } = snapshot;

        public int Failures { get; set; }
    }
}
