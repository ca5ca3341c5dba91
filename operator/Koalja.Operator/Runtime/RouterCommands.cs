using Koalja.Core.Storage;
using Koalja.Operator.Registry;
using Koalja.Tasks;

namespace Koalja.Operator.Runtime;

/// <summary>Work for the router's single writer loop; each completes when its transaction has committed.</summary>
internal abstract record RouterCommand
{
    public abstract void Fail(Exception error);
}

/// <summary>A value dropped into a FileDrop task's output (its bytes are stored already).</summary>
internal sealed record IngestCommand(
    PipelineRuntime Runtime, string Task, string Output, StoredArtifact Artifact, string MediaType, string? SourceName, string? IdempotencyKey) : RouterCommand
{
    public TaskCompletionSource<(ValueRecord Value, bool Created)> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

/// <summary>An execution ended.</summary>
internal sealed record FinishCommand(PipelineRuntime Runtime, string Task, string SnapshotId, int Attempt, string Worker, TaskOutcome Outcome) : RouterCommand
{
    public TaskCompletionSource<FinishDecision> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

/// <summary>What happens to a snapshot after an execution.</summary>
internal enum FinishDecision
{
    Done,
    Retry,
    DeadLettered,
}
