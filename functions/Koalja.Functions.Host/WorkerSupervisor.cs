using Google.Protobuf.WellKnownTypes;
using Koalja.Functions.Host.Rpc;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Host;

/// <summary>
/// Keeps one worker running: starts its process and walks it through the handshake (StartStream → WorkerInit →
/// FunctionsMetadata → FunctionLoad ×N, pipelined) within the start timeout; when the process exits or its stream
/// closes, fails what it had in flight at once and starts a new process after the restart delay (doubling, up to
/// 5 s, while restarts fail fast); at stop, tells it to terminate and kills what is left by PID with its process tree.
/// </summary>
internal sealed partial class WorkerSupervisor(WorkerApp app, FunctionsHostOptions options, StreamRendezvous rendezvous, ILoggerFactory logs) : IAsyncDisposable
{
    /// <summary>A worker that ran less than this before it went away failed fast: the next restart waits twice as long.</summary>
    private static readonly TimeSpan FastFailure = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(5);

    /// <summary>How long a worker told to terminate may take to exit before it is killed.</summary>
    private static readonly TimeSpan TerminateGrace = TimeSpan.FromSeconds(5);

    private static readonly string HostVersion = typeof(WorkerSupervisor).Assembly.GetName().Version?.ToString() ?? "0.0.0.0";

    private readonly ILogger _log = logs.CreateLogger<LocalFunctionsHost>();
    private readonly ILogger _workerLog = logs.CreateLogger("Koalja.Functions." + app.Name);
    private readonly CancellationTokenSource _stop = new();
    private volatile WorkerState _state = new WorkerState.Unavailable($"The worker '{app.Name}' is starting.");
    private volatile WorkerProcess? _process;
    private Task _supervision = Task.CompletedTask;
    private Uri? _streamEndpoint;

    public string Name => app.Name;

    public WorkerState State => _state;

    /// <summary>The process started last (running, or being replaced), if any.</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>Starts the worker, to dial <paramref name="streamEndpoint"/>, and returns once it is ready; then keeps it running until <see cref="DisposeAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">The worker did not get ready; the message says at which step, why, and what it printed.</exception>
    public async Task StartAsync(Uri streamEndpoint, CancellationToken cancellationToken)
    {
        _streamEndpoint = streamEndpoint;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        var ready = await LaunchAsync(linked.Token);
        _state = ready;
        _supervision = SuperviseAsync(ready);
    }

    /// <summary>Stops restarting, sends WorkerTerminate, waits up to 5 s for the process to exit, then kills it and its children.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _supervision;
        var state = _state;
        _state = new WorkerState.Unavailable($"The worker '{Name}' is stopped.");
        if (state is WorkerState.Ready ready)
        {
            ready.Connection.Send(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Duration.FromTimeSpan(TerminateGrace) } });
            try
            {
                var code = await ready.Process.Exited.WaitAsync(TerminateGrace, options.Time);
                LogStopped(_log, Name, ready.Process.Id, code);
            }
            catch (TimeoutException)
            {
                LogKilled(_log, Name, ready.Process.Id, TerminateGrace.TotalSeconds);
            }

            ready.Connection.Close($"The worker '{Name}' was stopped.");
        }

        _process?.Dispose();
        _process = null;
        _stop.Dispose();
    }

    /// <summary>Kills the current process tree now (the host process is exiting).</summary>
    public void Kill() => _process?.Kill();

    private async Task SuperviseAsync(WorkerState.Ready ready)
    {
        var delay = options.RestartDelay;
        var readyAt = options.Time.GetTimestamp();
        while (true)
        {
            try
            {
                await Task.WhenAny(ready.Process.Exited, ready.Connection.Closed).WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return; // stopping: DisposeAsync ends the worker
            }

            var why = ready.Process.Exited.IsCompleted ? $"its process exited with code {ready.Process.Exited.Result}" : ready.Connection.Closed.Result;
            _state = new WorkerState.Unavailable($"The worker '{Name}' is restarting: {why}.");
            ready.Connection.Close($"The worker '{Name}' went away while the invocation ran: {why}.");
            ready.Process.Kill();
            int? code = await ready.Process.Exited.WaitAsync(TerminateGrace, options.Time).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : (int?)null, TaskScheduler.Default);
            var uptime = options.Time.GetElapsedTime(readyAt);
            delay = uptime < FastFailure ? delay : options.RestartDelay;
            LogExited(_log, Name, ready.Process.Id, code, (long)uptime.TotalMilliseconds, ready.Connection.Failed, (long)delay.TotalMilliseconds);
            ready.Process.Dispose();
            if (await RelaunchAsync(delay) is not { } next)
            {
                return;
            }

            (ready, delay) = next;
            _state = ready;
            readyAt = options.Time.GetTimestamp();
        }
    }

    /// <summary>Starts the worker again after <paramref name="delay"/>, and again with longer waits while that fails; null when stopping.</summary>
    private async Task<(WorkerState.Ready Ready, TimeSpan NextDelay)?> RelaunchAsync(TimeSpan delay)
    {
        while (true)
        {
            try
            {
                await Task.Delay(delay, options.Time, _stop.Token);
                var ready = await LaunchAsync(_stop.Token);
                return (ready, Longer(delay));
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return null;
            }
            catch (InvalidOperationException e)
            {
                delay = Longer(delay);
                LogRestartFailed(_log, Name, e.Message, (long)delay.TotalMilliseconds);
            }
        }
    }

    private static TimeSpan Longer(TimeSpan delay) =>
        TimeSpan.FromTicks(Math.Min(Math.Max(delay.Ticks * 2, TimeSpan.FromMilliseconds(50).Ticks), MaxRestartDelay.Ticks));

    /// <summary>One process start up to ready; on any failure the process is killed and the message says why.</summary>
    private async Task<WorkerState.Ready> LaunchAsync(CancellationToken cancellationToken)
    {
        var workerId = $"{Name}-{Guid.NewGuid():N}";
        var started = options.Time.GetTimestamp();
        var arrival = rendezvous.Expect(workerId, _workerLog);
        WorkerProcess process;
        try
        {
            process = WorkerProcess.Start(app, _streamEndpoint!, workerId, _workerLog);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            rendezvous.Forget(workerId);
            throw new InvalidOperationException($"The Functions worker '{Name}' could not be started: {e.Message}", e);
        }

        _process = process;
        LogStarting(_log, Name, process.Id, workerId);
        using var timeout = new CancellationTokenSource(options.StartTimeout, options.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var handshake = new Handshake(app, HostVersion);
        WorkerConnection? connection = null;
        try
        {
            connection = await UntilExitAsync(arrival, process, linked.Token);
            var functions = await UntilExitAsync(handshake.RunAsync(connection, linked.Token), process, linked.Token);
            var elapsed = (long)options.Time.GetElapsedTime(started).TotalMilliseconds;
            var routes = string.Join(", ", functions.Functions.Select(f => $"{f.Name} (api/{f.Route})"));
            LogReady(_log, Name, process.Id, elapsed, handshake.WorkerVersion, routes);

            return new WorkerState.Ready(connection, functions, process);
        }
        catch (Exception e)
        {
            connection?.Close($"The start of worker '{Name}' was given up.");
            process.Kill();
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                Discard(process);
                throw;
            }

            var why = e switch
            {
                OperationCanceledException => $"it was not ready within {options.StartTimeout.TotalSeconds:0.#} s",
                WorkerGoneException when process.Exited.IsCompleted => $"its process exited with code {process.Exited.Result}",
                _ => e.Message,
            };
            var output = await process.OutputTailAsync();
            Discard(process);
            throw new InvalidOperationException($"The Functions worker '{Name}' ({app.WorkerPath}) did not start: {why} (at: {handshake.Step}). What it printed:{Environment.NewLine}{output}", e);
        }
        finally
        {
            rendezvous.Forget(workerId);
        }
    }

    private void Discard(WorkerProcess process)
    {
        process.Dispose();
        Interlocked.CompareExchange(ref _process, null, process);
    }

    /// <summary>Waits for <paramref name="task"/>, failing with <see cref="WorkerGoneException"/> as soon as the process exits.</summary>
    private static async Task<T> UntilExitAsync<T>(Task<T> task, WorkerProcess process, CancellationToken cancellationToken)
    {
        if (await Task.WhenAny(task, process.Exited).WaitAsync(cancellationToken) != task)
        {
            throw new WorkerGoneException($"its process exited with code {process.Exited.Result}");
        }

        return await task;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Starting Functions worker {Worker}: process {Pid}, worker id {WorkerId}")]
    private static partial void LogStarting(ILogger log, string worker, int pid, string workerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Functions worker {Worker} (process {Pid}) is ready in {ElapsedMs} ms, worker {WorkerVersion}; HTTP functions: {Functions}")]
    private static partial void LogReady(ILogger log, string worker, int pid, long elapsedMs, string workerVersion, string functions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Functions worker {Worker} (process {Pid}) exited with code {ExitCode} after {UptimeMs} ms ({Failed} invocations in flight failed); starting it again in {DelayMs} ms")]
    private static partial void LogExited(ILogger log, string worker, int pid, int? exitCode, long uptimeMs, int failed, long delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Functions worker {Worker} did not start again: {Error}; next try in {DelayMs} ms")]
    private static partial void LogRestartFailed(ILogger log, string worker, string error, long delayMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Functions worker {Worker} (process {Pid}) stopped with exit code {ExitCode}")]
    private static partial void LogStopped(ILogger log, string worker, int pid, int exitCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Functions worker {Worker} (process {Pid}) did not exit within {Seconds} s of WorkerTerminate; killed with its process tree")]
    private static partial void LogKilled(ILogger log, string worker, int pid, double seconds);
}
