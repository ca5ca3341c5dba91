using Koalja.Core.Contract;
using Koalja.Core.Policies;
using Koalja.Core.Spec;
using Koalja.Router.Registry;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Runtime;

/// <summary>
/// Rebuilds the router's memory from the registry: at start, each pipeline's current code, each task's assembler
/// (its queued link entries and unfinished snapshots) and the snapshots to run again; after a failed transaction,
/// the assemblers, which may hold changes that were never written.
/// </summary>
internal sealed partial class RouterRecovery(RouterState state)
{
    private readonly ILogger _log = state.Log;

    /// <summary>
    /// Records the pipelines and builds their runtimes, in the writer's open transaction; returns the unfinished
    /// snapshots to dispatch once it has committed. <paramref name="dispatcher"/> makes a task's dispatcher.
    /// </summary>
    public List<(TaskDispatcher Dispatcher, TaskInvocation Invocation)> Load(IEnumerable<Pipeline> pipelines, DateTimeOffset now,
        Func<PipelineRuntime, TaskSpec, TaskDispatcher> dispatcher)
    {
        var writer = state.Writer;
        var resume = new List<(TaskDispatcher, TaskInvocation)>();
        foreach (var pipeline in pipelines)
        {
            var runtime = new PipelineRuntime(pipeline);
            state.Pipelines.Add(runtime.Name, runtime);
            writer.UpsertPipeline(runtime.Name, runtime.Revision, runtime.SpecJson, now);
            var reader = writer.Reader();
            runtime.SetPaused(reader.PausedSince(runtime.Name)); // paused stays paused across a restart
            LoadCode(runtime, reader, now);
            foreach (var task in pipeline.Spec.Tasks.Where(t => t.SnapshotInputs.Any()))
            {
                var outstanding = reader.Outstanding(runtime.Name, task.Name, PipelineRuntime.InputOrder(task));
                runtime.Assemblers[task.Name] = LoadAssembler(reader, runtime, task, outstanding);
                var taskDispatcher = runtime.Dispatchers[task.Name] = dispatcher(runtime, task);
                foreach (var pending in outstanding)
                {
                    var (codeVersion, _, attempts) = reader.Snapshot(pending.Snapshot.Id)!.Value;
                    var code = CodeKinds.ToTaskCode(reader.CodeVersion(codeVersion));
                    resume.Add((taskDispatcher, InvocationBuilder.Build(runtime, task.Name, pending.Snapshot, codeVersion, code, attempts + 1, reader)));
                }
            }
        }

        if (resume.Count > 0)
        {
            LogResumed(resume.Count);
        }

        return resume;
    }

    /// <summary>After a failed transaction: reloads every assembler from the registry, and forgets the values held for them.</summary>
    public void Reload()
    {
        var reader = new RegistryReader(state.Writer.Connection);
        foreach (var runtime in state.Pipelines.Values)
        {
            runtime.InHand.Clear();
            foreach (var task in runtime.Assemblers.Keys.ToList())
            {
                var spec = runtime.Task(task);
                runtime.Assemblers[task].Dispose();
                runtime.Assemblers[task] = LoadAssembler(reader, runtime, spec, reader.Outstanding(runtime.Name, task, PipelineRuntime.InputOrder(spec)));
            }
        }
    }

    /// <summary>
    /// Records the spec's code version of every task, and makes current the dropped code that was current
    /// before, unless the task's spec changed since (then the spec's executor is current again).
    /// </summary>
    private void LoadCode(PipelineRuntime runtime, RegistryReader reader, DateTimeOffset now)
    {
        var writer = state.Writer;
        foreach (var (task, version) in runtime.SpecCodeVersions)
        {
            writer.InsertCodeVersion(new CodeVersionRecord(version, runtime.Name, task, CodeKinds.Spec, now));
        }

        foreach (var (task, (version, baseVersion)) in reader.ActiveCode(runtime.Name))
        {
            if (runtime.SpecCodeVersions.GetValueOrDefault(task) is not { } specVersion || specVersion != baseVersion)
            {
                writer.SetActiveCode(runtime.Name, task, baseVersion, baseVersion, now);
                LogDroppedCodeRetired(runtime.Name, task, version);
                continue;
            }

            runtime.UseCode(task, CodeKinds.ToTaskCode(reader.CodeVersion(version)));
        }
    }

    /// <summary>A task's assembler as the registry's rows describe it: its queued link entries and unfinished snapshots.</summary>
    private static SnapshotAssembler LoadAssembler(RegistryReader reader, PipelineRuntime runtime, TaskSpec task, IReadOnlyList<PendingSnapshot> outstanding)
    {
        var state = AssemblerStateRows.Rebuild(task, reader.QueuedEntries(runtime.Name, task.Name), outstanding,
            reader.NextArrival(runtime.Name, task.Name), reader.NextSequence(runtime.Name, task.Name));
        return SnapshotAssembler.FromState(task, runtime.Code(task.Name).Version, state);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Pipeline}/{Task}: the task's spec changed, so its dropped code {Version} is no longer current; the executor of the pipeline file runs")]
    private partial void LogDroppedCodeRetired(string pipeline, string task, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming {Count} unfinished snapshot(s) from the registry")]
    private partial void LogResumed(int count);
}
