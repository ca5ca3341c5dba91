namespace Koalja.Tasks;

/// <summary>Settings of the task runtime.</summary>
public sealed record TaskRuntimeOptions
{
    /// <summary>Where executions get their working directories (one each, removed afterwards).</summary>
    public required string WorkRoot { get; init; }

    /// <summary>Where dropped code is unpacked, a directory per code version (default: <c>code</c> under <see cref="WorkRoot"/>).</summary>
    public string? CodeRoot { get; init; }

    /// <summary>An execution running longer is killed (with its child processes) and counts as failed.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How much of the end of stderr a failure reports.</summary>
    public int StderrTailBytes { get; init; } = 2048;
}
