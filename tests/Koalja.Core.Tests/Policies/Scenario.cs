using Koalja.Core.Policies;
using Koalja.Core.Spec;

namespace Koalja.Core.Tests.Policies;

/// <summary>
/// Turns FsCheck's random integers into a task and a run of events against it: arrivals on random
/// inputs, and successes, failures and dead letters of random outstanding snapshots. Shrinking the
/// integers shrinks the run.
/// </summary>
internal sealed class Scenario
{
    private Scenario(TaskSpec task) => Task = task;

    public TaskSpec Task { get; }

    public List<AssemblerEvent> Events { get; } = [];

    /// <summary>A task with 1–3 inputs (one perhaps merged) whose lengths suit <paramref name="policy"/>.</summary>
    public static TaskSpec TaskFor(SnapshotPolicy policy, int[] shape)
    {
        int At(int i) => shape.Length == 0 ? 0 : Math.Abs(shape[i % shape.Length] % 1000);
        var count = 1 + (At(0) % 3);
        var inputs = new List<TaskInputSpec>();
        for (var i = 0; i < count; i++)
        {
            var min = 1 + (At(1 + i) % 3);
            inputs.Add(policy switch
            {
                SnapshotPolicy.SwapNew4Old => Tasks.Input($"in{i}"),
                SnapshotPolicy.SlidingWindow => Tasks.Input($"in{i}", required: min, slide: 1 + (At(4 + i) % min)),
                _ => Tasks.Input($"in{i}", min: min, max: min + (At(7 + i) % 3)),
            });
        }

        if (At(10) % 2 == 1)
        {
            inputs.Add(Tasks.Input("merged", mergeInto: "in0"));
        }

        return Tasks.Task(policy, [.. inputs]);
    }

    /// <summary>Plays the script, choosing each event from the state so far (which snapshots are outstanding).</summary>
    public static Scenario Play(TaskSpec task, int[] script, Action<SnapshotAssembler, AssemblerEvent, AssemblyResult>? observe = null)
    {
        var scenario = new Scenario(task);
        using var assembler = new SnapshotAssembler(task, "v1");
        var outstanding = new List<string>();
        var next = 0;
        foreach (var raw in script)
        {
            var x = Math.Abs(raw % 1_000_000);
            AssemblerEvent e = (x % 10, outstanding.Count) switch
            {
                (< 6, _) or (_, 0) => new ValueArrived(task.Inputs[x / 10 % task.Inputs.Count].Name, $"v{next++}"),
                (< 8, _) => new SnapshotSucceeded(outstanding[x / 10 % outstanding.Count]),
                (8, _) => new SnapshotFailed(outstanding[x / 10 % outstanding.Count]),
                _ => new SnapshotDeadLettered(outstanding[x / 10 % outstanding.Count]),
            };
            var result = assembler.Apply(e);
            scenario.Events.Add(e);
            outstanding.AddRange(result.Ready.Select(s => s.Id));
            if (e is SnapshotSucceeded or SnapshotDeadLettered)
            {
                outstanding.Remove(e is SnapshotSucceeded ok ? ok.SnapshotId : ((SnapshotDeadLettered)e).SnapshotId);
            }

            observe?.Invoke(assembler, e, result);
        }

        return scenario;
    }
}
