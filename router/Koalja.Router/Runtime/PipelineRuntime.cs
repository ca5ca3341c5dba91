using System.Collections.Concurrent;
using System.Collections.Frozen;
using Koalja.Core.Contract;
using Koalja.Core.Policies;
using Koalja.Core.Spec;

namespace Koalja.Router.Runtime;

/// <summary>
/// What the router keeps in memory for one served pipeline: its spec, revision, code versions, links, assemblers
/// and dispatchers. Only the router loop changes it; the current code of a task is also read from HTTP threads,
/// so it is one immutable <see cref="CurrentCode"/> per task, replaced whole.
/// </summary>
internal sealed class PipelineRuntime
{
    private readonly Lock _pauseGate = new();
    private TaskCompletionSource _running = Completed();

    private readonly Dictionary<(string Task, string Output), List<(LinkSpec Link, TaskRef Destination)>> _outgoing = [];
    private readonly ConcurrentDictionary<string, CurrentCode> _code = new(StringComparer.Ordinal);

    /// <summary>Since when the pipeline is paused (drops are still taken, snapshots wait), or null when it runs.</summary>
    public DateTimeOffset? PausedSince { get; private set; }

    /// <summary>Completes when the pipeline runs (at once unless it is paused).</summary>
    public Task WhileRunning
    {
        get
        {
            lock (_pauseGate)
            {
                return _running.Task;
            }
        }
    }

    /// <summary>Pauses (<paramref name="since"/> set) or resumes (null) the dispatch of snapshots; executions already running finish.</summary>
    public void SetPaused(DateTimeOffset? since)
    {
        lock (_pauseGate)
        {
            PausedSince = since;
            if (since is null)
            {
                _running.TrySetResult();
            }
            else if (_running.Task.IsCompleted)
            {
                _running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    public PipelineRuntime(Pipeline pipeline)
    {
        Pipeline = pipeline;
        SpecJson = Runtime.SpecJson.Serialize(pipeline.Spec);
        Revision = Runtime.SpecJson.Revision(pipeline.Spec);
        SpecCodeVersions = pipeline.Spec.Tasks.ToFrozenDictionary(t => t.Name, t => Runtime.SpecJson.CodeVersion(pipeline.Name, t), StringComparer.Ordinal);
        foreach (var (task, version) in SpecCodeVersions)
        {
            _code[task] = new CurrentCode(version, null);
        }

        foreach (var link in pipeline.Spec.Links)
        {
            var key = (link.Source!.Value.Task, link.Source.Value.Name);
            if (!_outgoing.TryGetValue(key, out var list))
            {
                _outgoing[key] = list = [];
            }

            list.Add((link, link.Destination!.Value));
        }
    }

    public Pipeline Pipeline { get; }

    /// <summary>Set by the router when another process took this pipeline's lease: its commands are refused from then on.</summary>
    public bool Lost { get; set; }

    public string Name => Pipeline.Name;

    /// <summary>The pipeline's namespace, <c>default</c> when its file names none.</summary>
    public string Namespace => Pipeline.Metadata.Namespace is { Length: > 0 } ns ? ns : "default";

    public PipelineSpec Spec => Pipeline.Spec;

    public string SpecJson { get; }

    public string Revision { get; }

    /// <summary>Per task, the code version of the executor as the pipeline file writes it.</summary>
    public FrozenDictionary<string, string> SpecCodeVersions { get; }

    /// <summary>The code new snapshots of <paramref name="task"/> are made for: the spec's executor, or dropped code made current.</summary>
    public CurrentCode Code(string task) => _code[task];

    /// <summary>Makes <paramref name="code"/> (null: the spec's executor) the task's current code for new snapshots. Router loop only.</summary>
    public void UseCode(string task, TaskCode? code)
    {
        var current = new CurrentCode(code?.Version ?? SpecCodeVersions[task], code);
        _code[task] = current;
        if (Assemblers.TryGetValue(task, out var assembler))
        {
            assembler.CodeVersion = current.Version;
        }
    }

    /// <summary>One per task that runs on snapshots (a task with inputs).</summary>
    public Dictionary<string, SnapshotAssembler> Assemblers { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, TaskDispatcher> Dispatchers { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Per task, the values held at its inputs (queued, buffered or in an unfinished snapshot), as a snapshot event
    /// describes them: routing puts them here and consumption takes them out, so a ready snapshot is described
    /// without reading the registry inside the write transaction.
    /// </summary>
    public Dictionary<string, Dictionary<(string Input, string ValueId), InvocationValue>> InHand { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<(LinkSpec Link, TaskRef Destination)> Outgoing(string task, string output) =>
        _outgoing.TryGetValue((task, output), out var links) ? links : [];

    public TaskSpec Task(string name) => Spec.TaskByName(name) ?? throw new KeyNotFoundException($"Pipeline '{Name}' has no task '{name}'.");

    public static IReadOnlyList<string> InputOrder(TaskSpec task) => task.SnapshotInputs.Select(i => i.Name).ToList();
}

/// <summary>A task's current code: its version, and the dropped code when that is what runs (null: the spec's executor).</summary>
internal sealed record CurrentCode(string Version, TaskCode? Dropped);
