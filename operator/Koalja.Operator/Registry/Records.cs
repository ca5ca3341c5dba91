namespace Koalja.Operator.Registry;

/// <summary>An annotated value as the registry keeps it.</summary>
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
    long Seq = 0);

/// <summary>One execution attempt of a snapshot.</summary>
public sealed record ExecutionRecord(
    string Id,
    string SnapshotId,
    int Attempt,
    string Worker,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string Status,
    int? ExitCode,
    string? Error,
    string? StderrTail,
    string? LogSha256);

/// <summary>A snapshot that was given up on, with why.</summary>
public sealed record DeadLetterRecord(string SnapshotId, string Pipeline, string Task, string Reason, string? StderrTail, int Attempts, DateTimeOffset CreatedAt);
