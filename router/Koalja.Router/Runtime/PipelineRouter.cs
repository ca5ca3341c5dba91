using Koalja.Core.Contract;
using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Router.Registry;
using Koalja.Tasks;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Runtime;

/// <summary>
/// The only writer of the registry. It records dropped and produced values, appends them to the queues
/// of the links they travel, runs each destination task's snapshot assembler, records ready snapshots
/// and hands them to the task's dispatcher, and records how executions end. Commands are applied one
/// at a time by one loop (<see cref="CommandLoop"/>); a batch of them shares one transaction, and each command
/// completes only after that transaction has committed, so an acknowledged drop or result survives a crash. At start
/// the assemblers are rebuilt from the registry and unfinished snapshots are dispatched again (<see cref="RouterRecovery"/>).
/// </summary>
public sealed class PipelineRouter : IAsyncDisposable
{
    private readonly RouterState _state;
    private readonly ITaskRunner _runner;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CommandLoop _loop;
    private readonly LeaseKeeper _leases;
    private readonly RouterRecovery _recovery;
    private readonly IngestHandler _ingest;
    private readonly FinishHandler _finish;
    private readonly SetCodeHandler _setCode;
    private readonly ActivateCodeHandler _activate;
    private readonly ReplayHandler _replay;
    private readonly DeadLetterHandler _deadLetters;
    private int _disposed;
    private bool _inspecting;

    public PipelineRouter(Registry.Registry registry, ITaskRunner runner, RuntimeOptions options, TimeProvider time, ILogger<PipelineRouter> log)
    {
        _state = new RouterState(registry, options, time, log);
        Space = new SpaceHealth(time);
        _runner = runner;
        _log = log;
        var routing = new ValueRouting(_state);
        _recovery = new RouterRecovery(_state);
        _leases = new LeaseKeeper(_state);
        _ingest = new IngestHandler(_state, routing);
        _finish = new FinishHandler(_state, routing);
        _setCode = new SetCodeHandler(_state);
        _activate = new ActivateCodeHandler(_state);
        _replay = new ReplayHandler(_state, routing);
        _deadLetters = new DeadLetterHandler(_state);
        _loop = new CommandLoop(_state, Apply, _recovery.Reload, () => ValueRecorded, () => Space.Room(SpaceHealth.Storage)); // a commit went through: there is room
    }

    /// <summary>Raised after a value is committed (dropped or produced); for live views and waiting clients.</summary>
    public event Action<ValueRecord>? ValueRecorded;

    /// <summary>Raised after an execution's end is recorded; handlers must be quick and must not throw.</summary>
    public event Action<ExecutionReport>? ExecutionFinished;

    internal void ReportExecution(ExecutionReport report) => ExecutionFinished?.Invoke(report);

    /// <summary>Whether the server is short of disk space (for <c>/healthz</c>).</summary>
    public SpaceHealth Space { get; }

    internal IReadOnlyDictionary<string, PipelineRuntime> Pipelines => _state.Pipelines;

    public Registry.Registry Registry => _state.Registry;

    internal TimeProvider Time => _state.Time;

    internal RouterState State => _state;

    /// <summary>Registers the pipelines, rebuilds their state from the registry, and starts dispatching.</summary>
    /// <exception cref="PipelineLeasedException">Another live Koalja process routes one of the pipelines on this registry.</exception>
    public void Start(IEnumerable<Pipeline> pipelines)
    {
        var list = pipelines.ToList();
        var writer = _state.Open();
        var now = _state.Time.GetUtcNow();
        List<(TaskDispatcher Dispatcher, TaskInvocation Invocation)> resume;
        writer.Begin();
        try
        {
            _leases.Acquire(list.Select(p => p.Name), now);
            resume = _recovery.Load(list, now, NewDispatcher);
            writer.Commit();
        }
        catch
        {
            writer.Rollback();
            throw;
        }

        foreach (var (dispatcher, invocation) in resume)
        {
            dispatcher.Enqueue(invocation);
        }

        _loop.Start();
        _leases.StartRenewing(_loop.Post);
    }

    /// <summary>
    /// Builds the state of every pipeline the registry knows, to be read (the API's GETs) while no server runs them: no
    /// lease is taken, nothing is dispatched and nothing is written (what loading records is rolled back). Commands are refused.
    /// </summary>
    /// <exception cref="System.Text.Json.JsonException">A stored spec cannot be read.</exception>
    public void Inspect()
    {
        _inspecting = true;
        var writer = _state.Open();
        writer.Begin();
        try
        {
            var pipelines = writer.Reader().Pipelines().Select(p => new Pipeline
            {
                Metadata = new ObjectMetadata { Name = p.Name },
                Spec = PipelineSpecJson.Deserialize(System.Text.Json.JsonDocument.Parse(p.SpecJson).RootElement),
            }).ToList();
            _recovery.Load(pipelines, _state.Time.GetUtcNow(), NewDispatcher);
        }
        finally
        {
            writer.Rollback();
        }
    }

    private TaskDispatcher NewDispatcher(PipelineRuntime runtime, TaskSpec task) =>
        new(this, runtime, task, _runner, _state.Options, _state.Time, _log, _stopping.Token);

    /// <summary>Records a code version and makes it current if asked; completes once durable.</summary>
    internal Task SetCodeAsync(PipelineRuntime runtime, string task, CodeVersionRecord record, TaskCode code, bool activate) =>
        Send(new SetCodeCommand(runtime, task, record, code, activate)).Completion.Task;

    internal Task<CodeActivation> ActivateCodeAsync(PipelineRuntime runtime, string task, string version) =>
        Send(new ActivateCodeCommand(runtime, task, version)).Completion.Task;

    internal Task<IReadOnlyList<ValueRecord>> RecordReplayAsync(ReplayCommand command) => Send(command).Completion.Task;

    /// <summary>Pauses a pipeline (it takes drops and events; no new snapshot runs until it is resumed) or resumes it; durable across restarts. Since when it is paused, or null.</summary>
    internal Task<DateTimeOffset?> PauseAsync(PipelineRuntime runtime, bool pause) => Send(new PauseCommand(runtime, pause)).Completion.Task;

    private void Pause(PauseCommand c, AfterCommit after)
    {
        var since = c.Pause ? c.Runtime.PausedSince ?? _state.Time.GetUtcNow() : (DateTimeOffset?)null;
        _state.Writer.SetPaused(c.Runtime.Name, since);
        after.Then(() =>
        {
            c.Runtime.SetPaused(since);
            foreach (var dispatcher in c.Runtime.Dispatchers.Values)
            {
                dispatcher.LoadMayHaveChanged(); // the scaler's watchers: a paused pipeline wants no new replica
            }

            c.Completion.TrySetResult(since);
        });
    }

    /// <summary>
    /// Retries (once more, with the task's current code) or discards a pipeline's dead letters: those of one task when
    /// <paramref name="task"/> is given, those of the snapshots named when <paramref name="snapshots"/> is; the ones it
    /// acted on, once that is durable.
    /// </summary>
    internal Task<IReadOnlyList<DeadLetterRecord>> ResolveDeadLettersAsync(PipelineRuntime runtime, string? task, IReadOnlySet<string>? snapshots, bool retry) =>
        Send(new DeadLetterCommand(runtime, task, snapshots, retry)).Completion.Task;

    /// <summary>
    /// Records a dropped value and routes it; completes once it is durable. Idempotent per <paramref name="idempotencyKey"/>,
    /// or per the (source, id) of the CloudEvent it came as (then Created is false and the earlier value is returned).
    /// </summary>
    public Task<(ValueRecord Value, bool Created)> IngestAsync(string pipeline, string task, string output, StoredArtifact artifact, string mediaType, string? sourceName,
        string? idempotencyKey, IngressEventRecord? cloudEvent = null) =>
        Send(new IngestCommand(_state.Pipelines[pipeline], task, output, artifact, mediaType, sourceName, idempotencyKey, cloudEvent)).Completion.Task;

    internal Task<FinishDecision> FinishAsync(FinishCommand command) => Send(command).Completion.Task;

    /// <summary>A task's load and slots now, or null when the pipeline is not routed here or the task runs no snapshots (it has no inputs).</summary>
    public TaskScaling? Scaling(string pipeline, string task) =>
        _state.Pipelines.TryGetValue(pipeline, out var runtime) && runtime.Dispatchers.TryGetValue(task, out var dispatcher)
            ? new TaskScaling(dispatcher.Load, dispatcher.OrderSensitive, dispatcher.DesiredSlots, dispatcher.ActiveSlots, dispatcher.Slots,
                _runner is Dispatch.IReplicaView replicas
                    ? replicas.Running(pipeline, task).Select(r => (r.Replica, r.Snapshot, r.Since)).ToList()
                    : dispatcher.InFlight)
            : null;

    /// <summary>Calls <paramref name="changed"/> whenever the work of a task changes (a snapshot became ready or an execution ended); dispose to stop.</summary>
    /// <exception cref="KeyNotFoundException">The pipeline is not routed here or the task runs no snapshots.</exception>
    public IDisposable WatchLoad(string pipeline, string task, Action changed)
    {
        ArgumentNullException.ThrowIfNull(changed);
        if (!_state.Pipelines.TryGetValue(pipeline, out var runtime) || !runtime.Dispatchers.TryGetValue(task, out var dispatcher))
        {
            throw new KeyNotFoundException($"Pipeline '{pipeline}' has no task '{task}' that runs snapshots here.");
        }

        dispatcher.LoadChanged += changed;
        return new Unsubscribe(() => dispatcher.LoadChanged -= changed);
    }

    private sealed class Unsubscribe(Action action) : IDisposable
    {
        private Action? _action = action;

        public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _leases.StopRenewingAsync();
        var stopped = _loop.StopAsync();
        await _stopping.CancelAsync();
        foreach (var dispatcher in _state.Pipelines.Values.SelectMany(p => p.Dispatchers.Values))
        {
            await dispatcher.StopAsync();
        }

        await stopped;
        if (_state.Started && !_inspecting)
        {
            _leases.Release();
        }

        _state.Dispose();

        foreach (var assembler in _state.Pipelines.Values.SelectMany(p => p.Assemblers.Values))
        {
            assembler.Dispose();
        }

        _stopping.Dispose();
    }

    private T Send<T>(T command) where T : RouterCommand
    {
        if (_inspecting)
        {
            command.Fail(new InvalidOperationException("No Koalja server runs these pipelines: this is a read-only view of their registry."));
            return command;
        }

        _loop.Post(command);
        return command;
    }

    /// <summary>Hands a command to its handler, inside the loop's transaction.</summary>
    private void Apply(RouterCommand command, AfterCommit after)
    {
        if (command.Pipeline is { Lost: true } lost)
        {
            after.Then(() => command.Fail(new PipelineNotOwnedException(lost.Name)));
            return;
        }

        switch (command)
        {
            case IngestCommand ingest: _ingest.Apply(ingest, after); break;
            case FinishCommand finish: _finish.Apply(finish, after); break;
            case SetCodeCommand set: _setCode.Apply(set, after); break;
            case ActivateCodeCommand activate: _activate.Apply(activate, after); break;
            case ReplayCommand replay: _replay.Apply(replay, after); break;
            case DeadLetterCommand letters: _deadLetters.Apply(letters, after); break;
            case PauseCommand pause: Pause(pause, after); break;
            case RenewLeasesCommand: _leases.Renew(after); break;
            default: throw new InvalidOperationException($"No handler for {command.GetType().Name}.");
        }
    }
}

/// <summary>An execution that ended (its end recorded), for figures.</summary>
public sealed record ExecutionReport(string Pipeline, string Task, bool Succeeded, TimeSpan Duration);

/// <summary>
/// A task's work and slots at one moment: <see cref="Load"/> (ready snapshots and executions in flight), the slots the
/// scaling decision wants (held through the cooldown), those alive and the most allowed, and which replica runs which
/// snapshot: the task function replica when snapshots go over HTTP (<see cref="Dispatch.IReplicaView"/>), else the worker slot.
/// </summary>
public sealed record TaskScaling(Core.Scaling.TaskLoad Load, bool OrderSensitive, int DesiredSlots, int ActiveSlots, int MaxSlots,
    IReadOnlyList<(string Replica, string Snapshot, DateTimeOffset Since)> InFlight);
