using System.Text.Json.Serialization;
using Koalja.Core.Contract;
using Koalja.Core.Policies;
using Koalja.Router.Registry;
using Koalja.Tasks;

namespace Koalja.Router.Runtime;

/// <summary>
/// Runs new code on a task's retained input snapshots (a shadow run) and tells, per snapshot, whether
/// the outputs changed: same content hashes, by output and index, or not. A replay is a snapshot of its
/// own (same inputs, the new code version; the id says so), recorded with its execution; its outputs
/// are shadow values unless the caller publishes them. A replay that succeeded before is not run again.
/// </summary>
internal sealed class CodeReplayer(PipelineRouter router, ITaskRunner runner)
{
    public async Task<ReplayReport> RunAsync(PipelineRuntime runtime, string task, TaskCode code, int limit, bool publish, CancellationToken cancellationToken)
    {
        var spec = runtime.Task(task);
        var results = new List<ReplayResult>();
        using var connection = router.Registry.Open();
        var reader = new RegistryReader(connection);
        using var ids = new SnapshotIdBuilder();
        foreach (var (id, sequence) in reader.RetainedSnapshots(runtime.Name, task, limit))
        {
            var original = reader.LoadSnapshot(id, sequence, PipelineRuntime.InputOrder(spec));
            var replayId = ids.Compute(task, code.Version, original.Inputs);
            var before = Outputs(reader.SnapshotOutputs(id));
            if (replayId == id)
            {
                results.Add(new ReplayResult(id, replayId, sequence, ReplayVerdict.Unchanged, before, before, null));
                continue;
            }

            IReadOnlyList<ValueRecord> produced;
            string? error = null;
            var existing = reader.Snapshot(replayId);
            if (existing is { Status: SnapshotStatus.Ready or SnapshotStatus.Dead })
            {
                // the same inputs with this code are a real snapshot already (pending, or given up on): leave it to the dispatcher
                results.Add(new ReplayResult(id, replayId, sequence, ReplayVerdict.Failed, before, [], $"snapshot {replayId} (these inputs with this code) is {existing.Value.Status.Text()}; not replayed"));
                continue;
            }

            if (existing is { Status: SnapshotStatus.Shadow } && publish)
            {
                produced = await router.RecordReplayAsync(new ReplayCommand(runtime, task, id, original with { Id = replayId }, code.Version, existing.Value.Attempts, null, publish));
            }
            else if (existing is { Status: SnapshotStatus.Shadow or SnapshotStatus.Succeeded })
            {
                produced = reader.SnapshotOutputs(replayId);
            }
            else
            {
                var replay = original with { Id = replayId };
                var invocation = InvocationBuilder.Build(runtime, task, replay, code.Version, code, (existing?.Attempts ?? 0) + 1, reader);
                TaskOutcome outcome;
                try
                {
                    outcome = await runner.RunAsync(invocation, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    var now = router.Time.GetUtcNow();
                    outcome = new TaskOutcome(false, [], now, now, Error: $"the task runtime failed: {e.Message}");
                }

                produced = await router.RecordReplayAsync(new ReplayCommand(runtime, task, id, replay, code.Version, invocation.Attempt, outcome, publish));
                error = outcome.Succeeded ? null : outcome.Error + (outcome.StderrTail is { Length: > 0 } tail ? $"\n{tail}" : "");
            }

            var after = Outputs(produced);
            var result = error is not null ? ReplayVerdict.Failed : before.SequenceEqual(after) ? ReplayVerdict.Unchanged : ReplayVerdict.Changed;
            results.Add(new ReplayResult(id, replayId, sequence, result, before, after, error));
        }

        return new ReplayReport(code.Version, publish, results);
    }

    private static List<ReplayOutput> Outputs(IEnumerable<ValueRecord> values) =>
        values.OrderBy(v => v.Output, StringComparer.Ordinal).ThenBy(v => v.OutputIndex).Select(v => new ReplayOutput(v.Output, v.OutputIndex, v.Sha256, v.Id)).ToList();
}

/// <summary>What a replay of new code found.</summary>
public sealed record ReplayReport(string CodeVersion, bool Published, IReadOnlyList<ReplayResult> Snapshots)
{
    public int Changed => Snapshots.Count(s => s.Result == ReplayVerdict.Changed);

    public int Unchanged => Snapshots.Count(s => s.Result == ReplayVerdict.Unchanged);

    public int Failed => Snapshots.Count(s => s.Result == ReplayVerdict.Failed);
}

/// <summary>What a replay of one snapshot found; written <c>changed</c>, <c>unchanged</c> or <c>failed</c> in JSON.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReplayVerdict>))]
public enum ReplayVerdict
{
    /// <summary>The new code gave other outputs (by content hash, output and index).</summary>
    [JsonStringEnumMemberName("changed")]
    Changed,

    [JsonStringEnumMemberName("unchanged")]
    Unchanged,

    /// <summary>The new code failed on these inputs, or the snapshot could not be replayed.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,
}

/// <summary>One replayed snapshot, with the outputs before and after.</summary>
public sealed record ReplayResult(string SnapshotId, string ReplaySnapshotId, long Sequence, ReplayVerdict Result,
    IReadOnlyList<ReplayOutput> Before, IReadOnlyList<ReplayOutput> After, string? Error);

/// <summary>One output value of a snapshot, by its content hash.</summary>
public sealed record ReplayOutput(string Output, int Index, string Sha256, string ValueId)
{
    public bool Equals(ReplayOutput? other) => other is not null && Output == other.Output && Index == other.Index && Sha256 == other.Sha256;

    public override int GetHashCode() => HashCode.Combine(Output, Index, Sha256);
}
