using Koalja.Core.Contract;
using System.Threading.Channels;
using Koalja.Tasks;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Runtime;

/// <summary>
/// Runs one task's ready snapshots with a number of worker slots. Each slot takes the next snapshot,
/// runs it, and reports to the router; a failure the router wants retried is retried by the same slot
/// after a back-off, so an order-sensitive task (one slot) never runs a later snapshot first.
/// Delivery is at least once: what a crash interrupts is dispatched again at the next start.
/// </summary>
internal sealed partial class TaskDispatcher
{
    private readonly Channel<TaskInvocation> _queue = Channel.CreateUnbounded<TaskInvocation>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly PipelineRouter _router;
    private readonly PipelineRuntime _runtime;
    private readonly string _task;
    private readonly ITaskRunner _runner;
    private readonly RuntimeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Task[] _workers;
    private int _running;
    private int _queued;

    public TaskDispatcher(PipelineRouter router, PipelineRuntime runtime, string task, int slots, ITaskRunner runner, RuntimeOptions options, TimeProvider time, ILogger log, CancellationToken stopping)
    {
        _router = router;
        _runtime = runtime;
        _task = task;
        _runner = runner;
        _options = options;
        _time = time;
        _log = log;
        Slots = slots;
        _workers = Enumerable.Range(0, slots).Select(i => Task.Run(() => WorkAsync($"local-{task}-{i}", stopping), CancellationToken.None)).ToArray();
    }

    public int Slots { get; }

    public int Running => Volatile.Read(ref _running);

    public int Queued => Volatile.Read(ref _queued);

    public void Enqueue(TaskInvocation invocation)
    {
        Interlocked.Increment(ref _queued);
        _queue.Writer.TryWrite(invocation);
    }

    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers);
    }

    private async Task WorkAsync(string worker, CancellationToken stopping)
    {
        try
        {
            await foreach (var invocation in _queue.Reader.ReadAllAsync(stopping))
            {
                Interlocked.Decrement(ref _queued);
                Interlocked.Increment(ref _running);
                try
                {
                    await RunWithRetriesAsync(invocation, worker, stopping);
                }
                finally
                {
                    Interlocked.Decrement(ref _running);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // shutting down: what did not finish runs again at the next start
        }
    }

    private async Task RunWithRetriesAsync(TaskInvocation invocation, string worker, CancellationToken stopping)
    {
        for (var attempt = invocation.Attempt; ; attempt++)
        {
            var current = invocation with { Attempt = attempt };
            TaskOutcome outcome;
            try
            {
                outcome = await _runner.RunAsync(current, stopping);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var now = _time.GetUtcNow();
                outcome = new TaskOutcome(false, [], now, now, Error: $"the task runtime failed: {e.Message}");
            }

            stopping.ThrowIfCancellationRequested();
            if (await FinishAsync(() => new FinishCommand(_runtime, _task, current.SnapshotId, current.CodeVersion, attempt, worker, outcome), current.SnapshotId, stopping) is not { } decision)
            {
                return; // the pipeline is routed by another process now; the snapshot is still ready in the registry, for it
            }

            if (decision != FinishDecision.Retry)
            {
                if (decision == FinishDecision.DeadLettered)
                {
                    LogDeadLettered(_runtime.Name, _task, current.SnapshotId, attempt, outcome.Error);
                }

                return;
            }

            var delay = _options.RetryDelayFor(attempt);
            LogRetry(_runtime.Name, _task, current.SnapshotId, attempt, outcome.Error, delay);
            await Task.Delay(delay, _time, stopping);
        }
    }

    /// <summary>Records how an execution ended; a registry failure is retried (the outcome is kept), a lost pipeline gives null.</summary>
    private async Task<FinishDecision?> FinishAsync(Func<FinishCommand> command, string snapshotId, CancellationToken stopping)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                return await _router.FinishAsync(command()); // a new command each time: each completes once
            }
            catch (PipelineNotOwnedException)
            {
                return null;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var delay = _options.RetryDelayFor(failures);
                LogFinishFailed(e, _runtime.Name, _task, snapshotId, delay);
                await Task.Delay(delay, _time, stopping);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Pipeline}/{Task}: recording the end of snapshot {SnapshotId} failed; trying again in {Delay}")]
    private partial void LogFinishFailed(Exception error, string pipeline, string task, string snapshotId, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Pipeline}/{Task}: snapshot {SnapshotId} failed (attempt {Attempt}: {Error}); retrying in {Delay}")]
    private partial void LogRetry(string pipeline, string task, string snapshotId, int attempt, string? error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Pipeline}/{Task}: snapshot {SnapshotId} dead-lettered after {Attempt} attempts: {Error}")]
    private partial void LogDeadLettered(string pipeline, string task, string snapshotId, int attempt, string? error);
}
