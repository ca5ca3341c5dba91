using Koalja.Tasks.Sandboxing;

namespace Koalja.Tasks;

/// <summary>Settings of the task runtime.</summary>
public sealed record TaskRuntimeOptions
{
    /// <summary>Where executions get their working directories (one each, removed afterwards).</summary>
    public required string WorkRoot { get; init; }

    /// <summary>Where dropped code is unpacked, a directory per code version (default: <c>code</c> under <see cref="WorkRoot"/>).</summary>
    public string? CodeRoot { get; init; }

    /// <summary>Who runs the executions, as the answers report it (in a cluster, the task pod's name: <c>KOALJA_WORKER_NAME</c>); null: the router names it.</summary>
    public string? WorkerName { get; init; }

    /// <summary>An execution running longer is killed (with its child processes) and counts as failed.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Variables of this process's environment that commands get besides <see cref="CommandEnvironment.Passed"/>; the
    /// rest (credentials among them) they never see.
    /// </summary>
    public IReadOnlyList<string> PassEnvironment { get; init; } = [];

    /// <summary>
    /// Whether commands run in a sandbox (bubblewrap), one per worker slot: <see cref="SandboxMode.Auto"/> where it can
    /// be made, else unsandboxed with a warning (<see cref="TaskRuntime.Isolation"/>).
    /// </summary>
    public SandboxMode Sandbox { get; init; } = SandboxMode.Auto;

    /// <summary>Whether a sandboxed command may use the network (false: it gets a network namespace of its own, with only loopback).</summary>
    public bool SandboxNetwork { get; init; } = true;

    /// <summary>
    /// Directories a sandboxed command must not see (the server's data directory: registry, keys, blobs); <see cref="WorkRoot"/>
    /// is always hidden but for the command's own working directory.
    /// </summary>
    public IReadOnlyList<string> SandboxHides { get; init; } = [];

    /// <summary>How much of the end of stderr a failure reports.</summary>
    public int StderrTailBytes { get; init; } = 2048;

    /// <summary>
    /// Where a value's content can be fetched over HTTP (the <c>dataref</c> of the events a sink sends), by value id;
    /// null (or a null answer) gives the <c>sha256:</c> URI instead.
    /// </summary>
    public Func<string, Uri?>? ContentUrl { get; init; }

    /// <summary>How often a sink tries one delivery that failed in a way that may pass later, within one execution.</summary>
    public int SinkTries { get; init; } = 3;

    /// <summary>Wait before a sink's second try; it doubles for each further try.</summary>
    public TimeSpan SinkRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A sink's request without an answer in this time counts as failed.</summary>
    public TimeSpan SinkTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>What is wrong with these settings, each naming the setting, its bounds and its value.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(WorkRoot))
        {
            problems.Add("WorkRoot must name a directory");
        }

        if (CommandTimeout <= TimeSpan.Zero)
        {
            problems.Add($"CommandTimeout must be more than zero; it is {CommandTimeout}");
        }

        if (PassEnvironment.FirstOrDefault(n => !CommandEnvironment.IsName(n)) is { } bad)
        {
            problems.Add($"PassEnvironment names variables (letters, digits and '_', not starting with a digit); '{bad}' is not one");
        }

        if (StderrTailBytes < 0)
        {
            problems.Add($"StderrTailBytes must not be negative; it is {StderrTailBytes:N0}");
        }

        if (SinkTries < 1)
        {
            problems.Add($"SinkTries must be at least 1; it is {SinkTries}");
        }

        if (SinkRetryDelay < TimeSpan.Zero)
        {
            problems.Add($"SinkRetryDelay must not be negative; it is {SinkRetryDelay}");
        }

        if (SinkTimeout <= TimeSpan.Zero)
        {
            problems.Add($"SinkTimeout must be more than zero; it is {SinkTimeout}");
        }

        return problems;
    }
}
