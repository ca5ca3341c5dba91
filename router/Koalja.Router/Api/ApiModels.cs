using System.Text.Json;
using System.Text.Json.Serialization;
using Koalja.Router.Registry;
using Koalja.Router.Runtime;

namespace Koalja.Router.Api;

/// <summary>A value as the API shows it.</summary>
public sealed record ValueDto(
    string Id, string Pipeline, string Task, string Output, int OutputIndex, string Sha256, long Size, string MediaType,
    DateTimeOffset Created, string Uri, string Revision, string? CodeVersion, string? SnapshotId, string? ExecutionId, string? SourceName, long Seq, bool? Shadow)
{
    public static ValueDto From(ValueRecord v) => new(v.Id, v.Pipeline, v.Task, v.Output, v.OutputIndex, v.Sha256, v.Size, v.MediaType, v.CreatedAt,
        Core.Contract.ArtifactUri.For(v.Sha256), v.Revision, v.CodeVersion, v.SnapshotId, v.ExecutionId, v.SourceName, v.Seq, v.Shadow ? true : null);
}

/// <summary>A value with where it came from: its source values per input, the execution that made it, or the CloudEvent it came in as.</summary>
public sealed record ValueDetailDto(ValueDto Value, IReadOnlyDictionary<string, IReadOnlyList<SourceValueDto>> Inputs, ExecutionDto? Execution, IngressEventDto? Event = null);

/// <summary>The CloudEvent a value came in as.</summary>
public sealed record IngressEventDto(string Source, string Id, string Type, string? Subject, DateTimeOffset? Time, string Mode)
{
    public static IngressEventDto From(IngressEventRecord e) => new(e.Source, e.Id, e.Type, e.Subject, e.Time, e.Mode);
}

public sealed record SourceValueDto(string Id, string ArrivedOn);

public sealed record ExecutionDto(string Id, string SnapshotId, int Attempt, string Worker, DateTimeOffset Started, DateTimeOffset Finished,
    string Status, int? ExitCode, string? Error, string? LogUri)
{
    public static ExecutionDto From(ExecutionRecord e) => new(e.Id, e.SnapshotId, e.Attempt, e.Worker, e.StartedAt, e.FinishedAt, e.Status.Text(), e.ExitCode, e.Error,
        e.LogSha256 is null ? null : Core.Contract.ArtifactUri.For(e.LogSha256));
}

/// <summary>An execution as a task's list shows it: where it ran, how long, how it ended, which code.</summary>
public sealed record ExecutionSummaryDto(string Id, string Pipeline, string Task, string SnapshotId, int Attempt, string Worker, DateTimeOffset Started,
    DateTimeOffset Finished, double DurationMs, string Status, int? ExitCode, string? Error, string CodeVersion, string? LogUri,
    IReadOnlyDictionary<string, string>? Environment = null)
{
    public static ExecutionSummaryDto From(ExecutionInfo i)
    {
        var e = i.Execution;
        return new(e.Id, i.Pipeline, i.Task, e.SnapshotId, e.Attempt, e.Worker, e.StartedAt, e.FinishedAt, Math.Round((e.FinishedAt - e.StartedAt).TotalMilliseconds, 1),
            e.Status.Text(), e.ExitCode, e.Error, i.CodeVersion, e.LogSha256 is null ? null : Core.Contract.ArtifactUri.For(e.LogSha256),
            e.EnvironmentJson is { } json ? System.Text.Json.JsonSerializer.Deserialize(json, ApiJsonContext.Default.DictionaryStringString) : null);
    }
}

/// <summary>An execution with the values it ran on (per input) and the values it produced.</summary>
public sealed record ExecutionDetailDto(ExecutionSummaryDto Execution, string? StderrTail, IReadOnlyDictionary<string, IReadOnlyList<SourceValueDto>> Inputs,
    IReadOnlyList<ValueDto> Outputs);

/// <summary>The values whose derived work to report (<c>POST /api/pipelines/{p}/derived</c>).</summary>
public sealed record DerivedRequestDto(IReadOnlyList<string> Values);

/// <summary>A value waiting in a task's input for other values.</summary>
public sealed record WaitingValueDto(string Task, string Input, string Value);

/// <summary>Where the work that follows from some values stands.</summary>
public sealed record DerivedWorkDto(int Pending, int Succeeded, int DeadLettered, int Discarded, int Values, IReadOnlyList<WaitingValueDto> Waiting,
    DateTimeOffset? PausedSince = null);

/// <summary>What an id is: <c>value</c>, <c>execution</c>, <c>snapshot</c> or <c>code</c>.</summary>
public sealed record IdDto(string Kind, string Id);

/// <summary>A page of a task's executions, newest first; <c>next</c> is the <c>before</c> of the next page.</summary>
public sealed record ExecutionPageDto(IReadOnlyList<ExecutionSummaryDto> Executions, string? Next);

public sealed record ValuePageDto(IReadOnlyList<ValueDto> Values, long? Next);

public sealed record PipelineSummaryDto(string Name, string Revision, int Tasks, int Links, long Values, long Pending, long Running, long DeadLettered,
    DateTimeOffset? PausedSince = null);

/// <summary>The answer to a pause or a resume.</summary>
public sealed record PauseDto(string Pipeline, bool Paused, DateTimeOffset? PausedSince);

public sealed record PipelineDto(string Name, string Revision, JsonElement Spec, IReadOnlyList<TaskStatsDto> Tasks, IReadOnlyList<LinkStatsDto> Links, long DeadLetters,
    DateTimeOffset? PausedSince = null);

public sealed record TaskStatsDto(string Name, string Kind, string Policy, int Slots, long Queued, long Pending, long Running, long Succeeded,
    long FailedAttempts, long DeadLettered, long Values, int DesiredSlots = 0, int ActiveSlots = 0, long Discarded = 0, double? MedianMs = null, double? MaxMs = null);

/// <summary>Live scaling figures of a pipeline (<c>GET /api/pipelines/{p}/stats</c>), from the router's memory but for the links' queues.</summary>
public sealed record PipelineStatsDto(string Pipeline, DateTimeOffset At, IReadOnlyList<TaskLoadDto> Tasks, IReadOnlyList<LinkLoadDto> Links);

/// <summary>
/// A task's work and replicas: snapshots ready and in flight, the replicas the scaling decision wants (held through the
/// cooldown), the worker slots alive and allowed here, and which replica runs which snapshot with its deletion cost.
/// A task without inputs (a FileDrop) runs no snapshots: all zero.
/// </summary>
public sealed record TaskLoadDto(string Name, bool RunsSnapshots, bool OrderSensitive, int Ready, int InFlight, int DesiredReplicas, int ActiveSlots, int MaxSlots,
    IReadOnlyList<ReplicaDto> Replicas);

/// <summary>A replica running snapshots now (idle ones are not listed: their deletion cost is 0).</summary>
public sealed record ReplicaDto(string Replica, IReadOnlyList<string> Snapshots, DateTimeOffset Since, int DeletionCost);

public sealed record LinkLoadDto(string Name, string Source, string Destination, long Queued);

public sealed record LinkStatsDto(string Name, string Source, string Destination, long Queued, long Taken, long Consumed);

public sealed record DeadLetterDto(string SnapshotId, string Task, string Reason, string? StderrTail, int Attempts, DateTimeOffset Created)
{
    public static DeadLetterDto From(DeadLetterRecord d) => new(d.SnapshotId, d.Task, d.Reason, d.StderrTail, d.Attempts, d.CreatedAt);
}

/// <summary>What was done with a dead letter: <c>retried</c> (with the code version it ran again) or <c>discarded</c>.</summary>
public sealed record DeadLetterActionDto(DeadLetterDto DeadLetter, string Action, string? CodeVersion, DateTimeOffset At);

/// <summary>The answer to a retry or a discard: the dead letters acted on.</summary>
public sealed record DeadLetterResolutionDto(string Action, IReadOnlyList<DeadLetterDto> DeadLetters);

/// <summary>A code version of a task, with how many values it produced and whether new snapshots run it.</summary>
public sealed record CodeVersionDto(string Id, string Kind, DateTimeOffset Created, bool Current, long Values, string? BaseVersion, string? Sha256, long? Size,
    string? Entrypoint, string? FileName, string? Uri)
{
    public static CodeVersionDto From(CodeVersionRecord c, long values, string current) =>
        new(c.Id, c.Kind, c.CreatedAt, c.Id == current, values, c.BaseVersion, c.Sha256, c.Size, c.Entrypoint, c.FileName,
            c.Sha256 is null ? null : Core.Contract.ArtifactUri.For(c.Sha256));
}

public sealed record CodeListDto(string Pipeline, string Task, string Current, IReadOnlyList<CodeVersionDto> Versions);

public sealed record CodeDropDto(CodeVersionDto Version, bool Current, ReplayDto? Replay);

public sealed record ReplayDto(string CodeVersion, bool Published, int Snapshots, int Changed, int Unchanged, int Failed, IReadOnlyList<ReplayResult> Results)
{
    public static ReplayDto From(Runtime.ReplayReport r) => new(r.CodeVersion, r.Published, r.Snapshots.Count, r.Changed, r.Unchanged, r.Failed, r.Snapshots);
}

/// <summary>A lineage graph as the API shows it.</summary>
public sealed record LineageDto(string Root, string Direction, int? Depth, DateTimeOffset? AsOf, bool Truncated,
    IReadOnlyList<LineageValueDto> Values, IReadOnlyList<LineageExecutionDto> Executions, IReadOnlyList<LineageEdgeDto> Edges)
{
    public static LineageDto From(Lineage.LineageGraph g) => new(g.Root, g.Direction.ToString().ToLowerInvariant(), g.Depth, g.AsOf, g.Truncated,
        g.Values.Select(v => new LineageValueDto(v.Depth, ValueDto.From(v.Value))).ToList(),
        g.Executions.Select(e => new LineageExecutionDto(e.Task, e.CodeVersion, ExecutionDto.From(e.Execution))).ToList(),
        g.Edges.Select(e => new LineageEdgeDto(e.Kind, e.From, e.To, e.Name, e.Position)).ToList());
}

public sealed record LineageValueDto(int Depth, ValueDto Value);

public sealed record LineageExecutionDto(string Task, string CodeVersion, ExecutionDto Execution);

/// <summary><c>used</c> (value → execution, named by input and position) or <c>generated</c> (execution → value, by output and index).</summary>
public sealed record LineageEdgeDto(string Kind, string From, string To, string Name, int Position);

/// <summary>One violation of the CloudEvents specification (or of what Koalja needs), naming its attribute.</summary>
public sealed record EventViolationDto(string Attribute, string Message);

/// <summary>One event of a batch: 201 recorded, 200 a repeat (the earlier value), or 4xx with why.</summary>
public sealed record EventResultDto(int Index, string? Id, string? Source, int Status, ValueDto? Value, string? Title, string? Attribute, IReadOnlyList<EventViolationDto>? Errors)
{
    internal static EventResultDto From(int index, Events.EventOutcome o) => new(index, o.Event?.Id, o.Event?.Source?.OriginalString, o.Status,
        o.Value is null ? null : ValueDto.From(o.Value), o.Title, (o.Violations.Count > 0 ? o.Violations[0].Attribute : null),
        o.Violations.Count == 0 ? null : o.Violations.Select(v => new EventViolationDto(v.Attribute, v.Message)).ToList());
}

public sealed record EventBatchDto(int Recorded, int Repeated, int Refused, IReadOnlyList<EventResultDto> Results);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ValueDto))]
[JsonSerializable(typeof(List<ValueDto>))]
[JsonSerializable(typeof(ValueDetailDto))]
[JsonSerializable(typeof(ValuePageDto))]
[JsonSerializable(typeof(ExecutionDetailDto))]
[JsonSerializable(typeof(ExecutionPageDto))]
[JsonSerializable(typeof(IdDto))]
[JsonSerializable(typeof(PauseDto))]
[JsonSerializable(typeof(DerivedRequestDto))]
[JsonSerializable(typeof(DerivedWorkDto))]
[JsonSerializable(typeof(List<PipelineSummaryDto>))]
[JsonSerializable(typeof(PipelineDto))]
[JsonSerializable(typeof(PipelineStatsDto))]
[JsonSerializable(typeof(List<DeadLetterDto>))]
[JsonSerializable(typeof(List<DeadLetterActionDto>))]
[JsonSerializable(typeof(DeadLetterResolutionDto))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(CodeVersionDto))]
[JsonSerializable(typeof(LineageDto))]
[JsonSerializable(typeof(List<LineageValueDto>))]
[JsonSerializable(typeof(CodeListDto))]
[JsonSerializable(typeof(CodeDropDto))]
[JsonSerializable(typeof(EventBatchDto))]
[JsonSerializable(typeof(List<EventViolationDto>))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
