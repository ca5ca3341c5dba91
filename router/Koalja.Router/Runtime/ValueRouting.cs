using Koalja.Core.Contract;
using Koalja.Core.Policies;
using Koalja.Router.Registry;

namespace Koalja.Router.Runtime;

/// <summary>
/// What every command that records values shares: recording an execution and its outputs, appending a value to the
/// queue of every link leaving its output, letting each destination's assembler decide, and writing what it decided
/// (queue states, new snapshots, which are dispatched after the commit). Inside the loop's transaction only.
/// </summary>
internal sealed class ValueRouting(RouterState state)
{
    /// <summary>Records an execution, counts its attempt, and records the values it produced (idempotent ids); returns them, each with whether it is new.</summary>
    public List<(ValueRecord Value, bool IsNew)> RecordExecution(PipelineRuntime runtime, string task, string snapshotId, string codeVersion, int attempt, string worker,
        TaskOutcome outcome, bool shadow, DateTimeOffset now)
    {
        var writer = state.Writer;
        var executionId = Ids.Execution(snapshotId, attempt);
        writer.InsertExecution(new ExecutionRecord(executionId, snapshotId, attempt, worker, outcome.StartedAt, outcome.FinishedAt,
            outcome.Succeeded ? ExecutionStatus.Succeeded : ExecutionStatus.Failed, outcome.ExitCode, outcome.Error, outcome.StderrTail, outcome.LogSha256,
            outcome.Environment is { Count: > 0 } ran ? System.Text.Json.JsonSerializer.Serialize(ran.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal), Api.ApiJsonContext.Default.DictionaryStringString) : null),
            runtime.Name, task);
        writer.RecordAttempt(snapshotId, failed: !outcome.Succeeded);
        var values = new List<(ValueRecord, bool)>();
        foreach (var produced in outcome.Succeeded ? outcome.Outputs : [])
        {
            var value = new ValueRecord(Ids.ProducedValue(snapshotId, produced.Output, produced.Index), runtime.Name, task, produced.Output, produced.Index,
                produced.Sha256, produced.Size, produced.MediaType, now, runtime.Revision, codeVersion, snapshotId, executionId, null, Shadow: shadow);
            var seq = writer.InsertValue(value);
            values.Add((seq is { } s ? value with { Seq = s } : value, seq is not null));
        }

        return values;
    }

    /// <summary>Appends a committed value to the queue of every link leaving its output and lets each destination assemble.</summary>
    public void Route(PipelineRuntime runtime, ValueRecord value, AfterCommit after)
    {
        after.Recorded.Add(value);
        var now = state.Time.GetUtcNow();
        InvocationValue? described = null;
        foreach (var (link, destination) in runtime.Outgoing(value.Task, value.Output))
        {
            if (!runtime.Assemblers.TryGetValue(destination.Task, out var assembler))
            {
                continue;
            }

            var arrival = assembler.NextArrival;
            if (!state.Writer.InsertLinkEntry(runtime.Name, destination.Task, destination.Name, value.Id, link.Name, arrival, now))
            {
                continue; // already queued there: a replay
            }

            InHand(runtime, destination.Task)[(destination.Name, value.Id)] = described ??= InvocationBuilder.Describe(value);
            Track(runtime, destination.Task, assembler.Apply(new ValueArrived(destination.Name, value.Id)), after);
        }
    }

    /// <summary>Writes what an assembler event changed: queue entries taken or consumed, and new snapshots to dispatch.</summary>
    public void Track(PipelineRuntime runtime, string task, AssemblyResult result, AfterCommit after)
    {
        var writer = state.Writer;
        var now = state.Time.GetUtcNow();
        foreach (var value in result.Unqueued)
        {
            writer.SetLinkEntryState(runtime.Name, task, value, LinkEntryState.Taken, now);
        }

        if (result.Ready.Count > 0)
        {
            var code = runtime.Code(task);
            var dispatcher = runtime.Dispatchers[task];
            foreach (var snapshot in result.Ready)
            {
                writer.InsertSnapshot(runtime.Name, task, code.Version, snapshot, now);
                var invocation = InvocationBuilder.Build(runtime, task, snapshot, code, 1, writer.Reader);
                after.Then(() => dispatcher.Enqueue(invocation));
            }
        }

        var held = runtime.InHand.GetValueOrDefault(task);
        foreach (var value in result.Consumed)
        {
            writer.SetLinkEntryState(runtime.Name, task, value, LinkEntryState.Consumed, now);
            held?.Remove((value.Input, value.ValueId));
        }
    }

    private static Dictionary<(string Input, string ValueId), InvocationValue> InHand(PipelineRuntime runtime, string task) =>
        runtime.InHand.TryGetValue(task, out var held) ? held : runtime.InHand[task] = [];
}
