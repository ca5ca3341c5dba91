using Koalja.Core.Contract;
using System.Threading.Channels;
using Koalja.Core.Policies;
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
/// at a time by one loop; a batch of them shares one transaction, and each command completes only
/// after that transaction has committed, so an acknowledged drop or result survives a crash. At start
/// the assemblers are rebuilt from the registry and unfinished snapshots are dispatched again.
/// </summary>
public sealed partial class PipelineRouter : IAsyncDisposable
{
    private readonly Registry.Registry _registry;
    private readonly ITaskRunner _runner;
    private readonly RuntimeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Channel<RouterCommand> _commands = Channel.CreateUnbounded<RouterCommand>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, PipelineRuntime> _pipelines = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly LeaseHolder _holder = LeaseHolder.ThisProcess();
    private RegistryWriter? _writer;
    private ITimer? _renewal;
    private Task? _loop;
    private int _disposed;

    public PipelineRouter(Registry.Registry registry, ITaskRunner runner, RuntimeOptions options, TimeProvider time, ILogger<PipelineRouter> log)
    {
        _registry = registry;
        _runner = runner;
        _options = options;
        _time = time;
        _log = log;
    }

    /// <summary>Raised after a value is committed (dropped or produced); for live views and waiting clients.</summary>
    public event Action<ValueRecord>? ValueRecorded;

    internal IReadOnlyDictionary<string, PipelineRuntime> Pipelines => _pipelines;

    public Registry.Registry Registry => _registry;

    /// <summary>Registers the pipelines, rebuilds their state from the registry, and starts dispatching.</summary>
    public void Start(IEnumerable<Pipeline> pipelines)
    {
        _writer = new RegistryWriter(_registry, _registry.Open());
        var now = _time.GetUtcNow();
        var resume = new List<(PipelineRuntime, string, TaskInvocation)>();
        _writer.Begin();
        try
        {
            foreach (var pipeline in pipelines)
            {
                PipelineLeases.Acquire(_writer, pipeline.Name, _holder, now, _options.LeaseTtl);
            }
        }
        catch
        {
            _writer.Rollback();
            throw;
        }

        foreach (var pipeline in pipelines)
        {
            var runtime = new PipelineRuntime(pipeline);
            _pipelines.Add(runtime.Name, runtime);
            _writer.UpsertPipeline(runtime.Name, runtime.Revision, runtime.SpecJson, now);
            var reader = _writer.Reader();
            LoadCode(runtime, reader, now);
            foreach (var task in pipeline.Spec.Tasks)
            {
                if (!task.SnapshotInputs.Any())
                {
                    continue;
                }

                var outstanding = reader.Outstanding(runtime.Name, task.Name, PipelineRuntime.InputOrder(task));
                runtime.Assemblers[task.Name] = LoadAssembler(reader, runtime, task, outstanding);
                var slots = task.EffectiveSnapshotPolicy == SnapshotPolicy.AllNew && task.EffectiveLaunchPolicy == LaunchPolicy.Auto ? Math.Max(1, _options.SlotsPerTask) : 1;
                runtime.Dispatchers[task.Name] = new TaskDispatcher(this, runtime, task.Name, slots, _runner, _options, _log, _stopping.Token);
                foreach (var pending in outstanding)
                {
                    var (codeVersion, _, attempts) = reader.Snapshot(pending.Snapshot.Id)!.Value;
                    var code = CodeKinds.ToTaskCode(reader.CodeVersion(codeVersion));
                    resume.Add((runtime, task.Name, Invocation(runtime, task.Name, pending.Snapshot, codeVersion, code, attempts + 1, reader)));
                }
            }
        }

        _writer.Commit();
        foreach (var (runtime, task, invocation) in resume)
        {
            runtime.Dispatchers[task].Enqueue(invocation);
        }

        if (resume.Count > 0)
        {
            LogResumed(resume.Count);
        }

        _loop = Task.Run(LoopAsync);
        _renewal = _time.CreateTimer(_ => Post(new RenewLeasesCommand()), null, _options.LeaseTtl / 3, _options.LeaseTtl / 3);
    }

    /// <summary>
    /// Records the spec's code version of every task, and makes current the dropped code that was current
    /// before, unless the task's spec changed since (then the spec's executor is current again).
    /// </summary>
    private void LoadCode(PipelineRuntime runtime, RegistryReader reader, DateTimeOffset now)
    {
        foreach (var (task, version) in runtime.SpecCodeVersions)
        {
            _writer!.InsertCodeVersion(new CodeVersionRecord(version, runtime.Name, task, CodeKinds.Spec, now));
        }

        foreach (var (task, (version, baseVersion)) in reader.ActiveCode(runtime.Name))
        {
            if (runtime.SpecCodeVersions.GetValueOrDefault(task) is not { } specVersion || specVersion != baseVersion)
            {
                _writer!.SetActiveCode(runtime.Name, task, baseVersion, baseVersion, now);
                LogDroppedCodeRetired(runtime.Name, task, version);
                continue;
            }

            runtime.UseCode(task, CodeKinds.ToTaskCode(reader.CodeVersion(version)));
        }
    }

    /// <summary>Records a code version and makes it current if asked; completes once durable.</summary>
    internal Task SetCodeAsync(PipelineRuntime runtime, string task, CodeVersionRecord record, TaskCode code, bool activate)
    {
        var command = new SetCodeCommand(runtime, task, record, code, activate);
        Post(command);
        return command.Completion.Task;
    }

    internal Task<(CodeVersionRecord? Code, string? Problem)> ActivateCodeAsync(PipelineRuntime runtime, string task, string version)
    {
        var command = new ActivateCodeCommand(runtime, task, version);
        Post(command);
        return command.Completion.Task;
    }

    internal Task<IReadOnlyList<ValueRecord>> RecordReplayAsync(ReplayCommand command)
    {
        Post(command);
        return command.Completion.Task;
    }

    /// <summary>
    /// Records a dropped value and routes it; completes once it is durable. Idempotent per <paramref name="idempotencyKey"/>,
    /// or per the (source, id) of the CloudEvent it came as (then Created is false and the earlier value is returned).
    /// </summary>
    public Task<(ValueRecord Value, bool Created)> IngestAsync(string pipeline, string task, string output, StoredArtifact artifact, string mediaType, string? sourceName,
        string? idempotencyKey, IngressEventRecord? cloudEvent = null)
    {
        var command = new IngestCommand(_pipelines[pipeline], task, output, artifact, mediaType, sourceName, idempotencyKey, cloudEvent);
        Post(command);
        return command.Completion.Task;
    }

    internal Task<FinishDecision> FinishAsync(FinishCommand command)
    {
        Post(command);
        return command.Completion.Task;
    }

    /// <summary>Executions running and snapshots waiting for a slot, per task.</summary>
    public (int Running, int Queued) Activity(string pipeline, string task) =>
        _pipelines.TryGetValue(pipeline, out var runtime) && runtime.Dispatchers.TryGetValue(task, out var dispatcher) ? (dispatcher.Running, dispatcher.Queued) : (0, 0);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_renewal is not null)
        {
            await _renewal.DisposeAsync();
        }

        _commands.Writer.TryComplete();
        await _stopping.CancelAsync();
        foreach (var dispatcher in _pipelines.Values.SelectMany(p => p.Dispatchers.Values))
        {
            await dispatcher.StopAsync();
        }

        if (_loop is not null)
        {
            await _loop;
        }

        if (_writer is not null)
        {
            try
            {
                _writer.Begin();
                _writer.ReleaseLeases(_holder.Id);
                _writer.Commit();
            }
            catch (System.Data.Common.DbException e)
            {
                LogLeaseRelease(e); // the leases expire by themselves
            }

            _writer.Connection.Dispose();
            _writer.Dispose();
        }

        foreach (var assembler in _pipelines.Values.SelectMany(p => p.Assemblers.Values))
        {
            assembler.Dispose();
        }

        _stopping.Dispose();
    }

    private void Post(RouterCommand command)
    {
        if (!_commands.Writer.TryWrite(command))
        {
            command.Fail(new InvalidOperationException("Koalja is shutting down."));
        }
    }

    private async Task LoopAsync()
    {
        var batch = new List<RouterCommand>();
        while (await _commands.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _options.MaxBatch && _commands.Reader.TryRead(out var command))
            {
                batch.Add(command);
            }

            var effects = new Effects();
            try
            {
                _writer!.Begin();
                foreach (var command in batch)
                {
                    Apply(command, effects);
                }

                _writer.Commit();
            }
            catch (Exception e)
            {
                _writer!.Rollback();
                LogBatchFailed(e, batch.Count);
                foreach (var command in batch)
                {
                    command.Fail(e);
                }

                RebuildAssemblers();
                continue;
            }

            // After the commit: a failing effect or subscriber is logged and must never end this loop (every later command would wait forever).
            foreach (var failure in effects.Publish(ValueRecorded))
            {
                LogEffectFailed(failure);
            }
        }
    }

    private void Apply(RouterCommand command, Effects effects)
    {
        if (command.Pipeline is { Lost: true } lost)
        {
            effects.Complete(() => command.Fail(new PipelineNotOwnedException(lost.Name)));
            return;
        }

        switch (command)
        {
            case IngestCommand ingest:
                ApplyIngest(ingest, effects);
                break;
            case FinishCommand finish:
                ApplyFinish(finish, effects);
                break;
            case SetCodeCommand set:
                _writer!.InsertCodeVersion(set.Record);
                if (set.Activate)
                {
                    _writer.SetActiveCode(set.Runtime.Name, set.Task, set.Code.Version, set.Runtime.SpecCodeVersions[set.Task], _time.GetUtcNow());
                    effects.Complete(() => set.Runtime.UseCode(set.Task, set.Code));
                }

                effects.Complete(() => set.Completion.TrySetResult(true));
                break;
            case ActivateCodeCommand activate:
                ApplyActivate(activate, effects);
                break;
            case ReplayCommand replay:
                ApplyReplay(replay, effects);
                break;
            case RenewLeasesCommand:
                ApplyRenewal(effects);
                break;
        }
    }

    /// <summary>
    /// Extends this process's leases. A pipeline whose lease another process took (this one was paused past the
    /// lease) is given up: its commands are refused and its dispatchers stop, so two processes never route it.
    /// </summary>
    private void ApplyRenewal(Effects effects)
    {
        if (_writer!.RenewLeases(_holder.Id, _time.GetUtcNow() + _options.LeaseTtl) >= _pipelines.Count)
        {
            return;
        }

        var held = _writer.LeasedPipelines(_holder.Id);
        foreach (var runtime in _pipelines.Values.Where(p => !p.Lost && !held.Contains(p.Name)))
        {
            runtime.Lost = true;
            LogLeaseLost(runtime.Name);
            foreach (var dispatcher in runtime.Dispatchers.Values)
            {
                effects.Complete(() => _ = dispatcher.StopAsync());
            }
        }
    }

    private void ApplyIngest(IngestCommand c, Effects effects)
    {
        var runtime = c.Runtime;
        var existing = c.Event is { } e ? _writer!.FindIngressEvent(runtime.Name, e.Source, e.Id)
            : c.IdempotencyKey is { } key ? _writer!.FindIngressKey(runtime.Name, c.Task, key) : null;
        if (existing is not null)
        {
            var known = _writer!.Reader().Value(existing)!;
            effects.Complete(() => c.Completion.TrySetResult((known, false)));
            return;
        }

        var value = new ValueRecord(
            c.Event is { } evt ? Ids.Event(runtime.Name, evt.Source, evt.Id) : c.IdempotencyKey is { } k ? Ids.Drop(runtime.Name, c.Task, k) : Ids.New(),
            runtime.Name, c.Task, c.Output, 0, c.Artifact.Sha256, c.Artifact.Size, c.MediaType, _time.GetUtcNow(),
            runtime.Revision, runtime.CodeVersions[c.Task], null, null, c.SourceName);
        value = value with { Seq = _writer!.InsertValue(value) ?? 0 };
        if (c.Event is { } cloudEvent)
        {
            _writer.InsertIngressEvent(runtime.Name, cloudEvent, value.Id, value.CreatedAt);
        }
        else if (c.IdempotencyKey is { } idempotencyKey)
        {
            _writer.InsertIngressKey(runtime.Name, c.Task, idempotencyKey, value.Id);
        }

        Route(runtime, value, effects);
        effects.Complete(() => c.Completion.TrySetResult((value, true)));
    }

    private void ApplyFinish(FinishCommand c, Effects effects)
    {
        var runtime = c.Runtime;
        var outcome = c.Outcome;
        var now = _time.GetUtcNow();
        var values = RecordExecution(runtime, c.Task, c.SnapshotId, c.CodeVersion, c.Attempt, c.Worker, outcome, shadow: false, now);
        var assembler = runtime.Assemblers[c.Task];
        FinishDecision decision;
        if (outcome.Succeeded)
        {
            foreach (var (value, isNew) in values)
            {
                if (isNew)
                {
                    Route(runtime, value, effects);
                }
            }

            _writer!.FinishSnapshot(c.SnapshotId, "succeeded", now);
            Track(runtime, c.Task, assembler.Apply(new SnapshotSucceeded(c.SnapshotId)), effects);
            decision = FinishDecision.Done;
        }
        else if (c.Attempt >= _options.MaxAttempts)
        {
            _writer!.InsertDeadLetter(new DeadLetterRecord(c.SnapshotId, runtime.Name, c.Task, outcome.Error ?? "failed", outcome.StderrTail, c.Attempt, now));
            _writer.FinishSnapshot(c.SnapshotId, "dead", now);
            Track(runtime, c.Task, assembler.Apply(new SnapshotDeadLettered(c.SnapshotId)), effects);
            decision = FinishDecision.DeadLettered;
        }
        else
        {
            assembler.Apply(new SnapshotFailed(c.SnapshotId));
            decision = FinishDecision.Retry;
        }

        effects.Complete(() => c.Completion.TrySetResult(decision));
    }

    private void ApplyActivate(ActivateCodeCommand c, Effects effects)
    {
        var runtime = c.Runtime;
        var record = _writer!.Reader().CodeVersion(c.Version);
        var specVersion = runtime.SpecCodeVersions[c.Task];
        string? problem = null;
        if (record is null || record.Pipeline != runtime.Name || record.Task != c.Task)
        {
            problem = $"Task '{runtime.Name}/{c.Task}' has no code version '{c.Version}'";
        }
        else if (record.Id != specVersion && record.BaseVersion != specVersion)
        {
            problem = $"Code version '{c.Version}' was dropped onto an earlier spec of task '{c.Task}' (its executor, inputs or outputs changed since); drop the code again";
        }
        else
        {
            _writer.SetActiveCode(runtime.Name, c.Task, record.Id, specVersion, _time.GetUtcNow());
            var code = CodeKinds.ToTaskCode(record);
            effects.Complete(() => runtime.UseCode(c.Task, code));
        }

        effects.Complete(() => c.Completion.TrySetResult((problem is null ? record : null, problem)));
    }

    /// <summary>
    /// Records a replay as a snapshot of its own (same inputs, the new code version) with its execution.
    /// Its outputs are shadow values, unless published: then they are ordinary outputs and travel on.
    /// </summary>
    private void ApplyReplay(ReplayCommand c, Effects effects)
    {
        var runtime = c.Runtime;
        var now = _time.GetUtcNow();
        if (c.Outcome is not { } outcome)
        {
            // an earlier replay, kept as shadow values, is published now
            var shadows = _writer!.Reader().SnapshotOutputs(c.Replay.Id).Where(v => v.Shadow).ToList();
            _writer.PublishShadows(c.Replay.Id);
            _writer.FinishSnapshot(c.Replay.Id, "succeeded", now, "shadow");
            foreach (var value in shadows)
            {
                Route(runtime, value with { Shadow = false }, effects);
            }

            IReadOnlyList<ValueRecord> published = shadows.Select(v => v with { Shadow = false }).ToList();
            effects.Complete(() => c.Completion.TrySetResult(published));
            return;
        }

        var publish = c.Publish && outcome.Succeeded;
        _writer!.InsertSnapshot(runtime.Name, c.Task, c.CodeVersion, c.Replay, now, "replaying", c.OriginalId);
        var values = RecordExecution(runtime, c.Task, c.Replay.Id, c.CodeVersion, c.Attempt, "replay", outcome, shadow: !publish, now);
        foreach (var (value, _) in values.Where(v => v.IsNew && publish))
        {
            Route(runtime, value, effects);
        }

        var status = !outcome.Succeeded ? "shadow-failed" : publish ? "succeeded" : "shadow";
        foreach (var from in new[] { "replaying", "shadow-failed" })
        {
            _writer.FinishSnapshot(c.Replay.Id, status, now, from);
        }

        var recorded = values.Select(v => v.Value).ToList();
        effects.Complete(() => c.Completion.TrySetResult(recorded));
    }

    /// <summary>Records an execution, counts its attempt, and records the values it produced (idempotent ids); returns them, each with whether it is new.</summary>
    private List<(ValueRecord Value, bool IsNew)> RecordExecution(PipelineRuntime runtime, string task, string snapshotId, string codeVersion, int attempt, string worker,
        TaskOutcome outcome, bool shadow, DateTimeOffset now)
    {
        var executionId = Ids.Execution(snapshotId, attempt);
        _writer!.InsertExecution(new ExecutionRecord(executionId, snapshotId, attempt, worker, outcome.StartedAt, outcome.FinishedAt,
            outcome.Succeeded ? "succeeded" : "failed", outcome.ExitCode, outcome.Error, outcome.StderrTail, outcome.LogSha256));
        _writer.RecordAttempt(snapshotId, failed: !outcome.Succeeded);
        var values = new List<(ValueRecord, bool)>();
        foreach (var produced in outcome.Succeeded ? outcome.Outputs : [])
        {
            var value = new ValueRecord(Ids.ProducedValue(snapshotId, produced.Output, produced.Index), runtime.Name, task, produced.Output, produced.Index,
                produced.Sha256, produced.Size, produced.MediaType, now, runtime.Revision, codeVersion, snapshotId, executionId, null, Shadow: shadow);
            var seq = _writer.InsertValue(value);
            values.Add((seq is { } s ? value with { Seq = s } : value, seq is not null));
        }

        return values;
    }

    /// <summary>Appends a committed value to the queue of every link leaving its output and lets each destination assemble.</summary>
    private void Route(PipelineRuntime runtime, ValueRecord value, Effects effects)
    {
        effects.Recorded.Add(value);
        var now = _time.GetUtcNow();
        foreach (var (link, destination) in runtime.Outgoing(value.Task, value.Output))
        {
            if (!runtime.Assemblers.TryGetValue(destination.Task, out var assembler))
            {
                continue;
            }

            var arrival = assembler.NextArrival;
            if (!_writer!.InsertLinkEntry(runtime.Name, destination.Task, destination.Name, value.Id, link.Name, arrival, now))
            {
                continue; // already queued there: a replay
            }

            Track(runtime, destination.Task, assembler.Apply(new ValueArrived(destination.Name, value.Id)), effects);
        }
    }

    /// <summary>Writes what an assembler event changed: queue entries taken or consumed, and new snapshots to dispatch.</summary>
    private void Track(PipelineRuntime runtime, string task, AssemblyResult result, Effects effects)
    {
        var now = _time.GetUtcNow();
        foreach (var value in result.Unqueued)
        {
            _writer!.SetLinkEntryState(runtime.Name, task, value, "taken", now);
        }

        foreach (var value in result.Consumed)
        {
            _writer!.SetLinkEntryState(runtime.Name, task, value, "consumed", now);
        }

        foreach (var snapshot in result.Ready)
        {
            _writer!.InsertSnapshot(runtime.Name, task, runtime.CodeVersions[task], snapshot, now);
            var invocation = Invocation(runtime, task, snapshot, runtime.CodeVersions[task], runtime.DroppedCode.GetValueOrDefault(task), 1,
                _writer.Reader());
            var dispatcher = runtime.Dispatchers[task];
            effects.Complete(() => dispatcher.Enqueue(invocation));
        }
    }

    internal static TaskInvocation Invocation(PipelineRuntime runtime, string task, Snapshot snapshot, string codeVersion, TaskCode? code, int attempt, RegistryReader reader)
    {
        var inputs = snapshot.Inputs.Select(input => new InvocationInput(input.Name, input.Values.Select(v =>
        {
            var value = reader.Value(v.ValueId) ?? throw new InvalidOperationException($"Value {v.ValueId} of snapshot {snapshot.Id} is not in the registry.");
            return new InvocationValue(value.Id, value.Sha256, value.Size, value.MediaType,
                new ValueOrigin(value.Task, value.Output, value.OutputIndex, value.CreatedAt, value.Revision, value.CodeVersion, value.SnapshotId));
        }).ToList())).ToList();
        return new TaskInvocation(runtime.Name, runtime.Spec, task, codeVersion, snapshot.Id, attempt, inputs, code) { Namespace = runtime.Namespace, Revision = runtime.Revision };
    }

    /// <summary>After a failed transaction the assemblers may hold changes that were not written: reload them from the registry.</summary>
    private void RebuildAssemblers()
    {
        var reader = new RegistryReader(_writer!.Connection);
        foreach (var runtime in _pipelines.Values)
        {
            foreach (var task in runtime.Assemblers.Keys.ToList())
            {
                var spec = runtime.Task(task);
                runtime.Assemblers[task].Dispose();
                runtime.Assemblers[task] = LoadAssembler(reader, runtime, spec, reader.Outstanding(runtime.Name, task, PipelineRuntime.InputOrder(spec)));
            }
        }
    }

    /// <summary>A task's assembler as the registry's rows describe it: its queued link entries and unfinished snapshots.</summary>
    private static SnapshotAssembler LoadAssembler(RegistryReader reader, PipelineRuntime runtime, TaskSpec task, IReadOnlyList<PendingSnapshot> outstanding)
    {
        var state = AssemblerStateRows.Rebuild(task, reader.QueuedEntries(runtime.Name, task.Name), outstanding,
            reader.NextArrival(runtime.Name, task.Name), reader.NextSequence(runtime.Name, task.Name));
        return SnapshotAssembler.FromState(task, runtime.CodeVersions[task.Name], state);
    }

    /// <summary>What a batch does once committed: complete callers, dispatch snapshots, announce values.</summary>
    private sealed class Effects
    {
        private readonly List<Action> _afterCommit = [];

        public List<ValueRecord> Recorded { get; } = [];

        public void Complete(Action action) => _afterCommit.Add(action);

        /// <summary>Runs every effect and announces every value; returns what threw, so that one failure stops none of the others.</summary>
        public List<Exception> Publish(Action<ValueRecord>? recorded)
        {
            var failures = new List<Exception>();
            foreach (var action in _afterCommit)
            {
                Run(action, failures);
            }

            if (Recorded.Count == 0 || recorded is null)
            {
                return failures;
            }

            var subscribers = recorded.GetInvocationList().Cast<Action<ValueRecord>>().ToList(); // once per batch, not per value
            foreach (var value in Recorded)
            {
                foreach (var subscriber in subscribers)
                {
                    Run(() => subscriber(value), failures);
                }
            }

            return failures;
        }

        private static void Run(Action action, List<Exception> failures)
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "An after-commit effect or a value subscriber failed; the router goes on")]
    private partial void LogEffectFailed(Exception error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Pipeline {Pipeline}: another process took its lease (this one was paused longer than the lease); this process stops routing it")]
    private partial void LogLeaseLost(string pipeline);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give back the pipeline leases; they expire by themselves")]
    private partial void LogLeaseRelease(Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Pipeline}/{Task}: the task's spec changed, so its dropped code {Version} is no longer current; the executor of the pipeline file runs")]
    private partial void LogDroppedCodeRetired(string pipeline, string task, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming {Count} unfinished snapshot(s) from the registry")]
    private partial void LogResumed(int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "A registry transaction of {Count} command(s) failed; they were refused and the state was reloaded")]
    private partial void LogBatchFailed(Exception error, int count);
}
