using Koalja.Core.Contract;
using Koalja.Core.Policies;
using Koalja.Core.Spec;

namespace Koalja.Router.Runtime;

/// <summary>What the router keeps in memory for one served pipeline: its spec, revision, code versions, links and assemblers.</summary>
internal sealed class PipelineRuntime
{
    private readonly Dictionary<(string Task, string Output), List<(LinkSpec Link, TaskRef Destination)>> _outgoing = [];

    public PipelineRuntime(Pipeline pipeline)
    {
        Pipeline = pipeline;
        SpecJson = Runtime.SpecJson.Serialize(pipeline.Spec);
        Revision = Runtime.SpecJson.Revision(pipeline.Spec);
        foreach (var task in pipeline.Spec.Tasks)
        {
            SpecCodeVersions[task.Name] = CodeVersions[task.Name] = Runtime.SpecJson.CodeVersion(pipeline.Name, task);
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

    /// <summary>Per task, the code version new snapshots are made for: the spec's, or dropped code made current.</summary>
    public Dictionary<string, string> CodeVersions { get; } = new(StringComparer.Ordinal);

    /// <summary>Per task, the code version of the executor as the pipeline file writes it.</summary>
    public Dictionary<string, string> SpecCodeVersions { get; } = new(StringComparer.Ordinal);

    /// <summary>Per task with current dropped code: that code.</summary>
    public Dictionary<string, TaskCode> DroppedCode { get; } = new(StringComparer.Ordinal);

    /// <summary>Makes <paramref name="code"/> (null: the spec's executor) the task's current code for new snapshots.</summary>
    public void UseCode(string task, TaskCode? code)
    {
        var version = code?.Version ?? SpecCodeVersions[task];
        CodeVersions[task] = version;
        if (code is null)
        {
            DroppedCode.Remove(task);
        }
        else
        {
            DroppedCode[task] = code;
        }

        if (Assemblers.TryGetValue(task, out var assembler))
        {
            assembler.CodeVersion = version;
        }
    }

    /// <summary>One per task that runs on snapshots (a task with inputs).</summary>
    public Dictionary<string, SnapshotAssembler> Assemblers { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, TaskDispatcher> Dispatchers { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<(LinkSpec Link, TaskRef Destination)> Outgoing(string task, string output) =>
        _outgoing.TryGetValue((task, output), out var links) ? links : [];

    public TaskSpec Task(string name) => Spec.TaskByName(name) ?? throw new KeyNotFoundException($"Pipeline '{Name}' has no task '{name}'.");

    public static IReadOnlyList<string> InputOrder(TaskSpec task) => task.SnapshotInputs.Select(i => i.Name).ToList();
}
