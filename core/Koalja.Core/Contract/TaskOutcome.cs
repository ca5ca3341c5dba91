namespace Koalja.Core.Contract;

/// <summary>
/// How an execution ended, and the values it produced (stored already; the router records them). <c>Worker</c> is who
/// ran it as the task function reports it (a task pod's name); null: the router names it. <c>Permanent</c>: a failure
/// that running again cannot mend (a task type this runtime cannot run, a program that cannot be started or is not
/// found): the router dead-letters it at once instead of retrying. <c>Environment</c>: where the command ran, for
/// provenance (host, operating system, the image named and whether it was used, the interpreter and its version).
/// <c>Exhausted</c>: the machine ran out of disk space or quota; freeing it mends the failure, so the router keeps the
/// snapshot and runs it again after a pause, without spending an attempt.
/// </summary>
public sealed record TaskOutcome(
    bool Succeeded,
    IReadOnlyList<ProducedValue> Outputs,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    int? ExitCode = null,
    string? Error = null,
    string? StderrTail = null,
    string? LogSha256 = null,
    string? Worker = null,
    bool Permanent = false,
    IReadOnlyDictionary<string, string>? Environment = null,
    bool Exhausted = false);

/// <summary>A value an execution produced on <paramref name="Output"/>; <paramref name="Index"/> orders several values of one output.</summary>
public sealed record ProducedValue(string Output, int Index, string Sha256, long Size, string MediaType);
