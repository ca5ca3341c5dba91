using Koalja.Core.Spec;

namespace Koalja.Core.Contract;

/// <summary>
/// Everything one execution needs (the data of an <c>io.koalja.snapshot</c> event): the task, its
/// code version, and for each snapshot input the ordered values. Task runners are stateless.
/// <paramref name="Code"/> is the dropped code that replaces the task's executor, if any.
/// </summary>
public sealed record TaskInvocation(
    string Pipeline,
    PipelineSpec Spec,
    string Task,
    string CodeVersion,
    string SnapshotId,
    int Attempt,
    IReadOnlyList<InvocationInput> Inputs,
    TaskCode? Code = null)
{
    /// <summary>The pipeline's Kubernetes namespace (<c>default</c> when the file names none); part of event sources.</summary>
    public string Namespace { get; init; } = "default";

    /// <summary>The pipeline's revision (a hash of its spec) the snapshot was made under.</summary>
    public string Revision { get; init; } = "";

    /// <summary>The folder of the pipeline file under <c>koalja up</c> (<see cref="Spec.Pipeline.SourceDirectory"/>); null in a cluster.</summary>
    public string? PipelineDirectory { get; init; }

    public TaskSpec TaskSpec => Spec.TaskByName(Task) ?? throw new InvalidOperationException($"Task '{Task}' is not in the pipeline.");
}

/// <summary>The ordered values of one snapshot input.</summary>
public sealed record InvocationInput(string Name, IReadOnlyList<InvocationValue> Values);

/// <summary>One input value: its id, content address, size and media type, and where it came from.</summary>
public sealed record InvocationValue(string ValueId, string Sha256, long Size, string MediaType, ValueOrigin? Origin = null);

/// <summary>
/// Where a value was made: the task output (and index) it is on, when, by which revision of the pipeline and
/// code version, and the snapshot whose execution produced it (none for a drop).
/// </summary>
public sealed record ValueOrigin(string Task, string Output, int Index, DateTimeOffset CreatedAt, string Revision, string? CodeVersion, string? SnapshotId);
