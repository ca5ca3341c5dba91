using Koalja.Core.Contract;
using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Tasks.Sandboxing;

namespace Koalja.Tasks;

/// <summary>The task runtime: picks the runner for a task (a built-in type, or its executor command).</summary>
public sealed class TaskRuntime : ITaskRunner, IDisposable, IAsyncDisposable
{
    private readonly CommandRunner _command;
    private readonly FileSplitRunner _fileSplit;
    private readonly CloudEventSinkRunner _sink;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    public TaskRuntime(IArtifactStore store, TaskRuntimeOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        var codeRoot = options.CodeRoot ?? Path.Combine(options.WorkRoot, "code");
        Code = new CodeCache(codeRoot, store);
        Isolation = CommandIsolation.For(options, codeRoot, out var sandbox);
        _command = new CommandRunner(store, Code, options, sandbox, time);
        _fileSplit = new FileSplitRunner(store, time);
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        })
        { Timeout = options.SinkTimeout };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("koalja/" + (typeof(TaskRuntime).Assembly.GetName().Version?.ToString(3) ?? "0"));
        _sink = new CloudEventSinkRunner(store, _http, options, time);
    }

    /// <summary>How commands are isolated here: in a sandbox, or not and why (for the server to show at start).</summary>
    public CommandIsolation Isolation { get; }

    /// <summary>Dropped code, unpacked per version.</summary>
    public CodeCache Code { get; }

    /// <summary>Task types this runtime runs on snapshots (FileDrop is ingress: it never runs).</summary>
    public static readonly IReadOnlyList<string> RunnableTypes = [BuiltInTaskTypes.FileSplit, BuiltInTaskTypes.CloudEventSink];

    public async Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var started = _time.GetUtcNow();
        try
        {
            return await RunnerFor(invocation, cancellationToken);
        }
        catch (Exception e) when (OutOfSpace.Is(e))
        {
            // copying inputs, writing the log, storing outputs: the machine is full, not the code wrong
            return new TaskOutcome(false, [], started, _time.GetUtcNow(), Error: $"out of disk space: {e.Message}", Exhausted: true);
        }
    }

    private Task<TaskOutcome> RunnerFor(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var task = invocation.TaskSpec;
        return task.Type switch
        {
            _ when invocation.Code is not null => _command.RunAsync(invocation, cancellationToken),
            BuiltInTaskTypes.FileSplit => _fileSplit.RunAsync(invocation, cancellationToken),
            BuiltInTaskTypes.CloudEventSink => _sink.RunAsync(invocation, cancellationToken),
            _ when task.Executor is not null => _command.RunAsync(invocation, cancellationToken),
            _ => Task.FromResult(new TaskOutcome(false, [], _time.GetUtcNow(), _time.GetUtcNow(),
                Error: $"Task type '{task.Type}' cannot run here (this runtime runs executors and {string.Join(", ", RunnableTypes)})", Permanent: true)),
        };
    }

    public void Dispose()
    {
        _http.Dispose();
        _command.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _command.DisposeAsync();
    }
}
