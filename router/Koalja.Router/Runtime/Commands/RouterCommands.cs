using Koalja.Core.Contract;
using Koalja.Core.Policies;
using Koalja.Storage;
using Koalja.Router.Registry;

namespace Koalja.Router.Runtime;

/// <summary>Work for the router's single writer loop; each completes when its transaction has committed.</summary>
internal abstract record RouterCommand
{
    /// <summary>The pipeline the command is about, if one: a pipeline whose lease this process lost refuses it.</summary>
    public virtual PipelineRuntime? Pipeline => null;

    public abstract void Fail(Exception error);
}

/// <summary>This process no longer holds the pipeline's lease: another process routes it now.</summary>
public sealed class PipelineNotOwnedException(string pipeline)
    : InvalidOperationException($"Pipeline '{pipeline}' is now run by another Koalja process on this registry (this one lost its lease); send it there")
{
    public string PipelineName { get; } = pipeline;
}

/// <summary>
/// A value dropped into a FileDrop task's output (its bytes are stored already), idempotent per key, or per
/// (source, id) when it came as a CloudEvent.
/// </summary>
internal sealed record IngestCommand(
    PipelineRuntime Runtime, string Task, string Output, StoredArtifact Artifact, string MediaType, string? SourceName, string? IdempotencyKey,
    IngressEventRecord? Event = null) : RouterCommand
{
    public override PipelineRuntime? Pipeline => Runtime;

    public TaskCompletionSource<(ValueRecord Value, bool Created)> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

/// <summary>An execution ended.</summary>
internal sealed record FinishCommand(PipelineRuntime Runtime, string Task, string SnapshotId, string CodeVersion, int Attempt, string Worker, TaskOutcome Outcome) : RouterCommand
{
    public override PipelineRuntime? Pipeline => Runtime;

    public TaskCompletionSource<FinishDecision> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

/// <summary>Records a code version of a task (stored and unpacked already) and, if asked, makes it current.</summary>
internal sealed record SetCodeCommand(PipelineRuntime Runtime, string Task, CodeVersionRecord Record, TaskCode Code, bool Activate) : RouterCommand
{
    public override PipelineRuntime? Pipeline => Runtime;

    public TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

/// <summary>Makes a recorded code version of a task current again (a roll-back), or the spec's own.</summary>
internal sealed record ActivateCodeCommand(PipelineRuntime Runtime, string Task, string Version) : RouterCommand
{
    public override PipelineRuntime? Pipeline => Runtime;

    public TaskCompletionSource<CodeActivation> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

/// <summary>
/// A shadow run of new code on an old snapshot's inputs ended: record it, and publish its outputs only if
/// asked. Without an outcome: publish the shadow outputs an earlier replay of that snapshot recorded.
/// </summary>
internal sealed record ReplayCommand(PipelineRuntime Runtime, string Task, string OriginalId, Snapshot Replay, string CodeVersion, int Attempt, TaskOutcome? Outcome, bool Publish) : RouterCommand
{
    public override PipelineRuntime? Pipeline => Runtime;

    public TaskCompletionSource<IReadOnlyList<ValueRecord>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

/// <summary>Dead letters of a pipeline retried or discarded: all, one task's, or the snapshots named.</summary>
internal sealed record DeadLetterCommand(PipelineRuntime Runtime, string? Task, IReadOnlySet<string>? Snapshots, bool Retry) : RouterCommand
{
    public override PipelineRuntime? Pipeline => Runtime;

    public TaskCompletionSource<IReadOnlyList<DeadLetterRecord>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

/// <summary>A pipeline paused (snapshots wait) or resumed.</summary>
internal sealed record PauseCommand(PipelineRuntime Runtime, bool Pause) : RouterCommand
{
    public override PipelineRuntime? Pipeline => Runtime;

    public TaskCompletionSource<DateTimeOffset?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

/// <summary>Extends this process's pipeline leases (posted by a timer).</summary>
internal sealed record RenewLeasesCommand : RouterCommand
{
    public override void Fail(Exception error)
    {
    }
}

/// <summary>The version made current (<see cref="Activated"/>), or why it cannot be.</summary>
internal sealed record CodeActivation(CodeVersionRecord? Activated, CodeActivationProblem? Problem, string? Message)
{
    public static CodeActivation Done(CodeVersionRecord record) => new(record, null, null);

    public static CodeActivation Refused(CodeActivationProblem problem, string message) => new(null, problem, message);
}

internal enum CodeActivationProblem
{
    /// <summary>The task has no code version of that id.</summary>
    UnknownVersion,

    /// <summary>The version was dropped onto an earlier spec of the task (its executor, inputs or outputs changed since).</summary>
    DroppedOntoEarlierSpec,
}

/// <summary>What happens to a snapshot after an execution.</summary>
internal enum FinishDecision
{
    Done,
    Retry,
    DeadLettered,
}
