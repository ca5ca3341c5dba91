using Koalja.Core.Contract;
using System.Threading.Channels;
using Koalja.Core.Scaling;
using Koalja.Core.Spec;
using Koalja.Tasks;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Runtime;

/// <summary>
/// Runs one task's ready snapshots on worker slots, as many as <see cref="ScalingDecision"/> wants for its load (the
/// same decision that scales the task's pods in the cluster), within <see cref="RuntimeOptions.SlotsPerTask"/>: a slot
/// starts when work arrives and retires after <see cref="RuntimeOptions.SlotCooldown"/> without work for it. Each slot
/// takes the next snapshot, runs it, and reports to the router; a failure the router wants retried is retried by the
/// same slot after a back-off, so an order-sensitive task (one slot) never runs a later snapshot first.
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
    private readonly CancellationToken _stopping;
    private readonly Lock _gate = new();
    private readonly ReplicaPlanner _planner;
    private readonly bool[] _slotInUse;
    private readonly List<Task> _workers = [];
    private readonly Dictionary<string, (string Snapshot, DateTimeOffset Since)> _bySlot = new(StringComparer.Ordinal);
    private int _running;
    private int _queued;
    private int _active;
    private bool _stopped;

    public TaskDispatcher(PipelineRouter router, PipelineRuntime runtime, TaskSpec task, ITaskRunner runner, RuntimeOptions options, TimeProvider time, ILogger log, CancellationToken stopping)
    {
        _router = router;
        _runtime = runtime;
        _task = task.Name;
        _runner = runner;
        _options = options;
        _time = time;
        _log = log;
        _stopping = stopping;
        OrderSensitive = ScalingDecision.IsOrderSensitive(task);
        Limits = ScalingDecision.LimitsFor(task, 0, options.SlotsPerTask, 1, ceiling: options.SlotsPerTask);
        _planner = new ReplicaPlanner(options.SlotCooldown);
        _slotInUse = new bool[ScalingDecision.MaxReplicas(OrderSensitive, Limits)];
    }

    /// <summary>Raised when the task's work (ready plus in flight) changes; handlers must be quick and must not throw.</summary>
    public event Action? LoadChanged;

    /// <summary>How many listen to <see cref="LoadChanged"/> (a closed scaler stream must leave none behind).</summary>
    internal int LoadWatchers => LoadChanged?.GetInvocationList().Length ?? 0;

    /// <summary>Snapshots must run one after another (one slot).</summary>
    public bool OrderSensitive { get; }

    /// <summary>The bounds of this task's slots: none kept idle, at most <see cref="RuntimeOptions.SlotsPerTask"/> (and the task's <c>maxReplicas</c>), one snapshot each.</summary>
    public ScalingLimits Limits { get; }

    /// <summary>The most slots this task may have.</summary>
    public int Slots => _slotInUse.Length;

    /// <summary>Slots alive now (running a snapshot or waiting for one before they retire).</summary>
    public int ActiveSlots
    {
        get
        {
            lock (_gate)
            {
                return _active;
            }
        }
    }

    public int Running => Volatile.Read(ref _running);

    public int Queued => Volatile.Read(ref _queued);

    public TaskLoad Load => new(Queued, Running);

    /// <summary>The load the scaler reports: a paused pipeline's ready snapshots want no replica (those running still count).</summary>
    public TaskLoad ScalingLoad => _runtime.PausedSince is null ? Load : new TaskLoad(0, Running);

    /// <summary>Tells the load's watchers that it may have changed (the pipeline was paused or resumed).</summary>
    public void LoadMayHaveChanged() => Rescale();

    /// <summary>The slots wanted now: the decision for the load, held through the cooldown.</summary>
    public int DesiredSlots
    {
        get
        {
            lock (_gate)
            {
                return _planner.Replicas(_time.GetUtcNow());
            }
        }
    }

    /// <summary>Which slot runs which snapshot, and since when.</summary>
    public IReadOnlyList<(string Slot, string Snapshot, DateTimeOffset Since)> InFlight
    {
        get
        {
            lock (_gate)
            {
                return _bySlot.Select(p => (p.Key, p.Value.Snapshot, p.Value.Since)).ToList();
            }
        }
    }

    public void Enqueue(TaskInvocation invocation)
    {
        Interlocked.Increment(ref _queued);
        _queue.Writer.TryWrite(invocation);
        Rescale();
    }

    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        Task[] workers;
        lock (_gate)
        {
            _stopped = true;
            workers = [.. _workers];
        }

        await Task.WhenAll(workers);
    }

    /// <summary>Tells the planner the load changed, starts the slots it wants, and tells the listeners.</summary>
    private void Rescale()
    {
        lock (_gate)
        {
            var wanted = _planner.Recommend(ScalingDecision.DesiredReplicas(Load, OrderSensitive, Limits), _time.GetUtcNow());
            while (_active < wanted && !_stopped)
            {
                var slot = Array.IndexOf(_slotInUse, false);
                _slotInUse[slot] = true;
                _active++;
                _workers.RemoveAll(w => w.IsCompleted);
                _workers.Add(Task.Run(() => WorkAsync(slot), CancellationToken.None));
            }
        }

        LoadChanged?.Invoke();
    }

    private async Task WorkAsync(int slot)
    {
        var worker = $"local-{_task}-{slot}";
        var retired = false;
        try
        {
            while (true)
            {
                await _runtime.WhileRunning.WaitAsync(_stopping); // a paused pipeline takes drops and runs nothing new
                if (!_queue.Reader.TryRead(out var invocation))
                {
                    var next = await WaitForWorkAsync(slot);
                    if (next == Wait.Work)
                    {
                        continue;
                    }

                    retired = next == Wait.Retired; // its slot may be another worker's already
                    return;
                }

                Interlocked.Decrement(ref _queued);
                Interlocked.Increment(ref _running);
                lock (_gate)
                {
                    _bySlot[worker] = (invocation.SnapshotId, _time.GetUtcNow());
                }

                try
                {
                    await RunWithRetriesAsync(invocation, worker, _stopping);
                }
                finally
                {
                    lock (_gate)
                    {
                        _bySlot.Remove(worker);
                    }

                    Interlocked.Decrement(ref _running);
                    Rescale();
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // shutting down: what did not finish runs again at the next start
        }
        finally
        {
            if (!retired)
            {
                Retire(slot, force: true);
            }
        }
    }

    private enum Wait
    {
        /// <summary>A snapshot may be there.</summary>
        Work,

        /// <summary>The cooldown passed without work for this slot: it gave its slot up.</summary>
        Retired,

        /// <summary>The dispatcher stops.</summary>
        Closed,
    }

    /// <summary>Waits for a snapshot, or for the cooldown to pass without work for this slot (then it retires).</summary>
    private async Task<Wait> WaitForWorkAsync(int slot)
    {
        DateTimeOffset? fall;
        lock (_gate)
        {
            fall = _planner.NextFall(_time.GetUtcNow());
        }

        var idle = fall is { } at ? at - _time.GetUtcNow() : _options.SlotCooldown;
        using var timer = new CancellationTokenSource(idle < TimeSpan.Zero ? TimeSpan.Zero : idle, _time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stopping, timer.Token);
        try
        {
            return await _queue.Reader.WaitToReadAsync(wait.Token) ? Wait.Work : Wait.Closed;
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            // Still wanted (work came, or the cooldown holds more slots): look for a snapshot, then wait again.
            return Retire(slot, force: false) ? Wait.Retired : Wait.Work;
        }
    }

    /// <summary>Gives the slot up if the planner wants fewer than are alive (or always, when its worker ends otherwise); true if it did.</summary>
    private bool Retire(int slot, bool force)
    {
        lock (_gate)
        {
            if (!_slotInUse[slot] || (!force && _active <= _planner.Replicas(_time.GetUtcNow())))
            {
                return false;
            }

            _slotInUse[slot] = false;
            _active--;
            return true;
        }
    }

    private async Task RunWithRetriesAsync(TaskInvocation invocation, string worker, CancellationToken stopping)
    {
        for (var attempt = invocation.Attempt; ; attempt++)
        {
            var current = invocation with { Attempt = attempt };
            var outcome = await RunUntilRoomAsync(current, stopping);
            if (await FinishAsync(() => new FinishCommand(_runtime, _task, current.SnapshotId, current.CodeVersion, attempt, outcome.Worker ?? worker, outcome), current.SnapshotId, stopping) is not { } decision)
            {
                return; // the pipeline is routed by another process now; the snapshot is still ready in the registry, for it
            }

            _router.ReportExecution(new ExecutionReport(_runtime.Name, _task, outcome.Succeeded, outcome.FinishedAt - outcome.StartedAt));
            if (outcome.Succeeded)
            {
                var executionId = Ids.Execution(current.SnapshotId, attempt);
                LogSucceeded(_runtime.Name, _task, current.SnapshotId, attempt, (outcome.FinishedAt - outcome.StartedAt).TotalMilliseconds, outcome.Worker ?? worker, executionId);
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
            await _runtime.WhileRunning.WaitAsync(stopping); // a pipeline paused meanwhile starts no new attempt
        }
    }

    /// <summary>
    /// Runs an attempt; one that failed for want of disk space is run again after a pause that grows (up to
    /// <see cref="RuntimeOptions.MaxRetryDelay"/>), as the same attempt and unrecorded, until there is room: freeing space
    /// mends it, so it must neither spend the snapshot's attempts nor dead-letter it.
    /// </summary>
    private async Task<TaskOutcome> RunUntilRoomAsync(TaskInvocation invocation, CancellationToken stopping)
    {
        for (var pauses = 1; ; pauses++)
        {
            TaskOutcome outcome;
            try
            {
                outcome = await _runner.RunAsync(invocation, stopping);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var now = _time.GetUtcNow();
                outcome = new TaskOutcome(false, [], now, now, Error: $"the task runtime failed: {e.Message}", Exhausted: Storage.OutOfSpace.Is(e));
            }

            stopping.ThrowIfCancellationRequested();
            if (!outcome.Exhausted)
            {
                return outcome;
            }

            var delay = _options.RetryDelayFor(pauses);
            _router.Space.OutOfSpace($"task {_runtime.Name}/{_task}");
            LogOutOfSpace(_runtime.Name, _task, invocation.SnapshotId, invocation.Attempt, outcome.Error, delay);
            await Task.Delay(delay, _time, stopping);
            await _runtime.WhileRunning.WaitAsync(stopping);
        }
    }

    /// <summary>Records how an execution ended; a registry failure is retried (the outcome is kept), a lost pipeline gives null.</summary>
    private async Task<FinishDecision?> FinishAsync(Func<FinishCommand> command, string snapshotId, CancellationToken stopping)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                var decision = await _router.FinishAsync(command()); // a new command each time: each completes once
                _router.Space.Room($"task {_runtime.Name}/{_task}");
                _router.Space.Room(SpaceHealth.Storage);
                return decision;
            }
            catch (PipelineNotOwnedException)
            {
                return null;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var delay = _options.RetryDelayFor(failures);
                if (Registry.RegistryFull.Is(e))
                {
                    _router.Space.OutOfSpace(SpaceHealth.Storage);
                }

                LogFinishFailed(e, _runtime.Name, _task, snapshotId, delay);
                await Task.Delay(delay, _time, stopping);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Pipeline}/{Task}: recording the end of snapshot {SnapshotId} failed; trying again in {Delay}")]
    private partial void LogFinishFailed(Exception error, string pipeline, string task, string snapshotId, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Pipeline}/{Task}: snapshot {SnapshotId} attempt {Attempt} ran out of disk space ({Error}); it is kept and runs again in {Delay}, without spending an attempt")]
    private partial void LogOutOfSpace(string pipeline, string task, string snapshotId, int attempt, string? error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Pipeline}/{Task}: snapshot {SnapshotId} attempt {Attempt} succeeded in {DurationMs:F0} ms on {Worker} (execution {ExecutionId})")]
    private partial void LogSucceeded(string pipeline, string task, string snapshotId, int attempt, double durationMs, string worker, string executionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Pipeline}/{Task}: snapshot {SnapshotId} failed (attempt {Attempt}: {Error}); retrying in {Delay}")]
    private partial void LogRetry(string pipeline, string task, string snapshotId, int attempt, string? error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Pipeline}/{Task}: snapshot {SnapshotId} dead-lettered after {Attempt} attempts: {Error}")]
    private partial void LogDeadLettered(string pipeline, string task, string snapshotId, int attempt, string? error);
}
