namespace Koalja.Router.Registry;

/// <summary>An annotated value as the registry keeps it. A <paramref name="Shadow"/> value came from a replay of new code and went nowhere.</summary>
public sealed record ValueRecord(
    string Id,
    string Pipeline,
    string Task,
    string Output,
    int OutputIndex,
    string Sha256,
    long Size,
    string MediaType,
    DateTimeOffset CreatedAt,
    string Revision,
    string? CodeVersion,
    string? SnapshotId,
    string? ExecutionId,
    string? SourceName,
    long Seq = 0,
    bool Shadow = false);

/// <summary>One execution attempt of a snapshot.</summary>
public sealed record ExecutionRecord(
    string Id,
    string SnapshotId,
    int Attempt,
    string Worker,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    ExecutionStatus Status,
    int? ExitCode,
    string? Error,
    string? StderrTail,
    string? LogSha256,
    string? EnvironmentJson = null);

/// <summary>A snapshot that was given up on, with why.</summary>
public sealed record DeadLetterRecord(string SnapshotId, string Pipeline, string Task, string Reason, string? StderrTail, int Attempts, DateTimeOffset CreatedAt);

/// <summary>A dead letter that was retried (<c>retried</c>, with the code version it runs again) or discarded (<c>discarded</c>).</summary>
public sealed record DeadLetterAction(DeadLetterRecord Letter, string Action, string? CodeVersion, DateTimeOffset ActedAt);

/// <summary>
/// A version of a task's code: <c>spec</c> (the executor written in the pipeline file; its id is a hash
/// of the task's spec) or dropped code (<c>script</c>, <c>zip</c>, <c>tar.gz</c>) stored by content hash,
/// with <paramref name="BaseVersion"/> the spec version it was dropped onto.
/// </summary>
public sealed record CodeVersionRecord(
    string Id,
    string Pipeline,
    string Task,
    string Kind,
    DateTimeOffset CreatedAt,
    string? BaseVersion = null,
    string? Sha256 = null,
    long? Size = null,
    string? Entrypoint = null,
    string? FileName = null);

/// <summary>
/// The CloudEvent a value came in as: its (<paramref name="Source"/>, <paramref name="Id"/>) names it once per
/// pipeline (a repeat is acknowledged and ignored), with its type, subject, time and the HTTP content mode it used.
/// </summary>
public sealed record IngressEventRecord(string Source, string Id, string Type, string? Subject, DateTimeOffset? Time, string Mode);

/// <summary>The work that follows from some values: snapshots by status, the values involved, and those waiting in a task's input for others.</summary>
public sealed record DerivedWork(int Pending, int Succeeded, int DeadLettered, int Discarded, int Values, IReadOnlyList<(string Task, string Input, string Value)> Waiting);

/// <summary>An execution with the pipeline, task and code version of the snapshot it ran.</summary>
public sealed record ExecutionInfo(ExecutionRecord Execution, string Pipeline, string Task, string CodeVersion);
