using Koalja.Core.Policies;
using Koalja.Router.Registry;

namespace Koalja.Router.Runtime;

/// <summary>A dropped value: recorded once per idempotency key or CloudEvent (source, id), then routed.</summary>
internal sealed class IngestHandler(RouterState state, ValueRouting routing)
{
    public void Apply(IngestCommand c, AfterCommit after)
    {
        var writer = state.Writer;
        var runtime = c.Runtime;
        var existing = c.Event is { } e ? writer.FindIngressEvent(runtime.Name, e.Source, e.Id)
            : c.IdempotencyKey is { } key ? writer.FindIngressKey(runtime.Name, c.Task, key) : null;
        if (existing is not null)
        {
            var known = writer.Reader().Value(existing)!;
            after.Then(() => c.Completion.TrySetResult((known, false)));
            return;
        }

        var now = state.Time.GetUtcNow();
        var value = new ValueRecord(
            c.Event is { } evt ? Ids.Event(runtime.Name, evt.Source, evt.Id) : c.IdempotencyKey is { } k ? Ids.Drop(runtime.Name, c.Task, k) : Ids.New(),
            runtime.Name, c.Task, c.Output, 0, c.Artifact.Sha256, c.Artifact.Size, c.MediaType, now,
            runtime.Revision, runtime.Code(c.Task).Version, null, null, c.SourceName);
        value = value with { Seq = writer.InsertValue(value) ?? 0 };
        if (c.Event is { } cloudEvent)
        {
            writer.InsertIngressEvent(runtime.Name, cloudEvent, value.Id, value.CreatedAt);
        }
        else if (c.IdempotencyKey is { } idempotencyKey)
        {
            writer.InsertIngressKey(runtime.Name, c.Task, idempotencyKey, value.Id);
        }

        routing.Route(runtime, value, after);
        after.Then(() => c.Completion.TrySetResult((value, true)));
    }
}

/// <summary>An execution ended: record it; route its outputs and finish the snapshot, dead-letter it after the last attempt, or leave it for a retry.</summary>
internal sealed class FinishHandler(RouterState state, ValueRouting routing)
{
    public void Apply(FinishCommand c, AfterCommit after)
    {
        var writer = state.Writer;
        var runtime = c.Runtime;
        var outcome = c.Outcome;
        var now = state.Time.GetUtcNow();
        var values = routing.RecordExecution(runtime, c.Task, c.SnapshotId, c.CodeVersion, c.Attempt, c.Worker, outcome, shadow: false, now);
        var assembler = runtime.Assemblers[c.Task];
        FinishDecision decision;
        if (outcome.Succeeded)
        {
            foreach (var (value, isNew) in values)
            {
                if (isNew)
                {
                    routing.Route(runtime, value, after);
                }
            }

            writer.FinishSnapshot(c.SnapshotId, SnapshotStatus.Succeeded, now);
            routing.Track(runtime, c.Task, assembler.Apply(new SnapshotSucceeded(c.SnapshotId)), after);
            decision = FinishDecision.Done;
        }
        else if (c.Attempt >= state.Options.MaxAttempts || outcome.Permanent || writer.Reader().WasRetried(c.SnapshotId))
        {
            var reason = outcome.Error ?? "failed";
            writer.InsertDeadLetter(new DeadLetterRecord(c.SnapshotId, runtime.Name, c.Task, outcome.Permanent ? $"{reason} (not retried: running again cannot mend it)" : reason,
                outcome.StderrTail, c.Attempt, now));
            writer.FinishSnapshot(c.SnapshotId, SnapshotStatus.Dead, now);
            routing.Track(runtime, c.Task, assembler.Apply(new SnapshotDeadLettered(c.SnapshotId)), after);
            decision = FinishDecision.DeadLettered;
        }
        else
        {
            assembler.Apply(new SnapshotFailed(c.SnapshotId));
            decision = FinishDecision.Retry;
        }

        after.Then(() => c.Completion.TrySetResult(decision));
    }
}

/// <summary>A code version recorded, and made current if asked.</summary>
internal sealed class SetCodeHandler(RouterState state)
{
    public void Apply(SetCodeCommand c, AfterCommit after)
    {
        var writer = state.Writer;
        writer.InsertCodeVersion(c.Record);
        if (c.Activate)
        {
            writer.SetActiveCode(c.Runtime.Name, c.Task, c.Code.Version, c.Runtime.SpecCodeVersions[c.Task], state.Time.GetUtcNow());
            after.Then(() => c.Runtime.UseCode(c.Task, c.Code));
        }

        after.Then(() => c.Completion.TrySetResult(true));
    }
}

/// <summary>A recorded code version made current again (a roll-back), if it was made for the task's present spec.</summary>
internal sealed class ActivateCodeHandler(RouterState state)
{
    public void Apply(ActivateCodeCommand c, AfterCommit after)
    {
        var writer = state.Writer;
        var runtime = c.Runtime;
        var record = writer.Reader().CodeVersion(c.Version);
        var specVersion = runtime.SpecCodeVersions[c.Task];
        CodeActivation result;
        if (record is null || record.Pipeline != runtime.Name || record.Task != c.Task)
        {
            result = CodeActivation.Refused(CodeActivationProblem.UnknownVersion, $"Task '{runtime.Name}/{c.Task}' has no code version '{c.Version}'");
        }
        else if (record.Id != specVersion && record.BaseVersion != specVersion)
        {
            result = CodeActivation.Refused(CodeActivationProblem.DroppedOntoEarlierSpec,
                $"Code version '{c.Version}' was dropped onto an earlier spec of task '{c.Task}' (its executor, inputs or outputs changed since); drop the code again");
        }
        else
        {
            writer.SetActiveCode(runtime.Name, c.Task, record.Id, specVersion, state.Time.GetUtcNow());
            var code = CodeKinds.ToTaskCode(record);
            after.Then(() => runtime.UseCode(c.Task, code));
            result = CodeActivation.Done(record);
        }

        after.Then(() => c.Completion.TrySetResult(result));
    }
}

/// <summary>
/// A replay recorded as a snapshot of its own (same inputs, the new code version) with its execution. Its outputs
/// are shadow values, unless published: then they are ordinary outputs and travel on.
/// </summary>
internal sealed class ReplayHandler(RouterState state, ValueRouting routing)
{
    public void Apply(ReplayCommand c, AfterCommit after)
    {
        var writer = state.Writer;
        var runtime = c.Runtime;
        var now = state.Time.GetUtcNow();
        if (c.Outcome is not { } outcome)
        {
            // an earlier replay, kept as shadow values, is published now
            var shadows = writer.Reader().SnapshotOutputs(c.Replay.Id).Where(v => v.Shadow).ToList();
            writer.PublishShadows(c.Replay.Id);
            writer.FinishSnapshot(c.Replay.Id, SnapshotStatus.Succeeded, now, SnapshotStatus.Shadow);
            foreach (var value in shadows)
            {
                routing.Route(runtime, value with { Shadow = false }, after);
            }

            IReadOnlyList<ValueRecord> published = shadows.Select(v => v with { Shadow = false }).ToList();
            after.Then(() => c.Completion.TrySetResult(published));
            return;
        }

        var publish = c.Publish && outcome.Succeeded;
        writer.InsertSnapshot(runtime.Name, c.Task, c.CodeVersion, c.Replay, now, SnapshotStatus.Replaying, c.OriginalId);
        var values = routing.RecordExecution(runtime, c.Task, c.Replay.Id, c.CodeVersion, c.Attempt, "replay", outcome, shadow: !publish, now);
        foreach (var (value, _) in values.Where(v => v.IsNew && publish))
        {
            routing.Route(runtime, value, after);
        }

        var status = !outcome.Succeeded ? SnapshotStatus.ShadowFailed : publish ? SnapshotStatus.Succeeded : SnapshotStatus.Shadow;
        foreach (var from in new[] { SnapshotStatus.Replaying, SnapshotStatus.ShadowFailed })
        {
            writer.FinishSnapshot(c.Replay.Id, status, now, from);
        }

        var recorded = values.Select(v => v.Value).ToList();
        after.Then(() => c.Completion.TrySetResult(recorded));
    }
}

/// <summary>
/// Dead letters retried or discarded. A retry makes the snapshot ready again with its task's current code (the fixed
/// code a user dropped) and runs it once more: it succeeds, or is dead-lettered again with the new reason. A discard
/// marks it discarded. Either way the dead letter moves to <c>dead_letter_actions</c>, the record of what was done, and
/// the earlier failed executions stay in the snapshot's history. A dead letter of a task the pipeline no longer has can
/// be discarded, not retried.
/// </summary>
internal sealed class DeadLetterHandler(RouterState state)
{
    public void Apply(DeadLetterCommand c, AfterCommit after)
    {
        var writer = state.Writer;
        var reader = writer.Reader();
        var now = state.Time.GetUtcNow();
        var runtime = c.Runtime;
        var letters = reader.DeadLetters(runtime.Name)
            .Where(d => (c.Task is null || d.Task == c.Task) && (c.Snapshots is null || c.Snapshots.Contains(d.SnapshotId)))
            .Where(d => !c.Retry || runtime.Dispatchers.ContainsKey(d.Task))
            .ToList();
        foreach (var letter in letters)
        {
            if (!c.Retry)
            {
                writer.ResolveDeadLetter(letter.SnapshotId, "discarded", null, now);
                writer.FinishSnapshot(letter.SnapshotId, SnapshotStatus.Discarded, now, from: SnapshotStatus.Dead);
                continue;
            }

            var code = runtime.Code(letter.Task);
            var attempts = reader.Snapshot(letter.SnapshotId)!.Value.Attempts;
            var snapshot = reader.LoadSnapshot(letter.SnapshotId, reader.SnapshotSequence(letter.SnapshotId), PipelineRuntime.InputOrder(runtime.Task(letter.Task)));
            writer.ResolveDeadLetter(letter.SnapshotId, "retried", code.Version, now);
            writer.ReviveSnapshot(letter.SnapshotId, code.Version);
            var invocation = InvocationBuilder.Build(runtime, letter.Task, snapshot, code, attempts + 1, writer.Reader);
            var dispatcher = runtime.Dispatchers[letter.Task];
            after.Then(() => dispatcher.Enqueue(invocation));
        }

        after.Then(() => c.Completion.TrySetResult(letters));
    }
}
