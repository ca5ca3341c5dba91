using FsCheck.Xunit;
using Koalja.Core.Policies;
using Koalja.Core.Spec;
using static Koalja.Core.Tests.Policies.Tasks;

namespace Koalja.Core.Tests.Policies;

public sealed class PolicyPropertyTests
{
    [Property(MaxTest = 300)]
    public bool AllNewUsesEveryValueExactlyOnceAndLosesNone(int[] shape, int[] script)
    {
        var task = Scenario.TaskFor(SnapshotPolicy.AllNew, shape);
        var used = new List<(string, string)>();
        var consumed = new List<(string, string)>();
        var finished = new HashSet<string>();
        AssemblerState? last = null;
        var scenario = Scenario.Play(task, script, (assembler, e, result) =>
        {
            used.AddRange(result.Ready.SelectMany(s => s.Values).Select(v => (v.Input, v.ValueId)));
            consumed.AddRange(result.Consumed.Select(v => (v.Input, v.ValueId)));
            if (e is SnapshotSucceeded or SnapshotDeadLettered)
            {
                finished.Add(e is SnapshotSucceeded s ? s.SnapshotId : ((SnapshotDeadLettered)e).SnapshotId);
            }

            last = assembler.ExportState();
        });

        var arrived = scenario.Events.OfType<ValueArrived>().Select(a => (a.Input, a.ValueId)).ToList();
        var remaining = last?.Streams.SelectMany(s => s.Buffer.Concat(s.Waiting)).Select(v => (v.Input, v.ValueId)).ToList() ?? [];
        var pending = last?.Outstanding.SelectMany(p => p.Snapshot.Values).Select(v => (v.Input, v.ValueId)).ToHashSet() ?? [];

        return used.Count == used.Distinct().Count()                              // never used twice
            && used.Concat(remaining).Order().SequenceEqual(arrived.Order())     // every value used or still waiting
            && consumed.Count == consumed.Distinct().Count()                      // consumed once
            && consumed.ToHashSet().SetEquals(used.Where(v => !pending.Contains(v))); // consumed exactly when its run finished
    }

    [Property(MaxTest = 300)]
    public bool SlidingWindowRunsOnExactlyTheWindowsOfSizeNWithStepSlide(int[] shape, int[] script)
    {
        int At(int i) => shape.Length == 0 ? 0 : Math.Abs(shape[i % shape.Length] % 100);
        var n = 1 + (At(0) % 5);
        var slide = 1 + (At(1) % n);
        var task = Task(SnapshotPolicy.SlidingWindow, Input("in", required: n, slide: slide));
        var windows = new List<string>();

        var scenario = Scenario.Play(task, script, (_, _, result) => windows.AddRange(result.Ready.Select(Render)));

        var values = scenario.Events.OfType<ValueArrived>().Select(a => a.ValueId).ToList();
        var expected = new List<string>();
        for (var start = 0; start + n <= values.Count; start += slide)
        {
            expected.Add($"⟨[{string.Join(",", values.Skip(start).Take(n))}]⟩");
        }

        return windows.SequenceEqual(expected);
    }

    [Property(MaxTest = 300)]
    public bool BuffersNeverExceedTheirMaximum(byte policy, int[] shape, int[] script)
    {
        var task = Scenario.TaskFor((SnapshotPolicy)(policy % 3), shape);
        var max = task.SnapshotInputs.ToDictionary(i => i.Name, i => i.MaxLength);
        var ok = true;

        Scenario.Play(task, script, (assembler, _, _) =>
            ok &= assembler.ExportState().Streams.All(s => s.Buffer.Count <= max[s.Input]));

        return ok;
    }

    [Property(MaxTest = 300)]
    public bool AValueWaitsInItsLinkOnlyWhileItsInputsBufferIsFull(byte policy, int[] shape, int[] script)
    {
        var task = Scenario.TaskFor((SnapshotPolicy)(policy % 3), shape);
        var max = task.SnapshotInputs.ToDictionary(i => i.Name, i => i.MaxLength);
        var ok = true;

        Scenario.Play(task, script, (assembler, _, _) =>
            ok &= assembler.ExportState().Streams.All(s => s.Waiting.Count == 0 || s.Buffer.Count == max[s.Input]));

        return ok;
    }

    [Property(MaxTest = 200)]
    public bool ReplayingFromAPersistedStateGivesTheSameSnapshotsAndIds(byte policy, int[] shape, int[] script, byte split)
    {
        var task = Scenario.TaskFor((SnapshotPolicy)(policy % 3), shape);
        var events = Scenario.Play(task, script).Events;
        var cut = events.Count == 0 ? 0 : split % (events.Count + 1);

        using var original = new SnapshotAssembler(task, "v1");
        foreach (var e in events.Take(cut))
        {
            original.Apply(e);
        }

        var persisted = AssemblerStateJson.Serialize(original.ExportState());
        using var reloaded = SnapshotAssembler.FromState(task, "v1", AssemblerStateJson.Deserialize(persisted));

        foreach (var e in events.Skip(cut))
        {
            var a = Describe(original.Apply(e));
            var b = Describe(reloaded.Apply(e));
            if (a != b)
            {
                return false;
            }
        }

        return AssemblerStateJson.Serialize(original.ExportState()) == AssemblerStateJson.Serialize(reloaded.ExportState());
    }

    [Property(MaxTest = 300)]
    public bool TheStateRebuiltFromQueueEntriesAndUnfinishedSnapshotsIsTheLiveState(byte policy, int[] shape, int[] script)
    {
        var task = Scenario.TaskFor((SnapshotPolicy)(policy % 3), shape);
        var queued = new Dictionary<(string, string), ArrivedValue>();
        var ok = true;

        Scenario.Play(task, script, (assembler, e, result) =>
        {
            var live = assembler.ExportState();
            if (e is ValueArrived arrived && assembler.IsHeld(arrived.Input, arrived.ValueId))
            {
                var value = live.Streams.SelectMany(s => s.Buffer.Concat(s.Waiting)).Concat(live.Outstanding.SelectMany(p => p.Snapshot.Values))
                    .First(v => v.Input == arrived.Input && v.ValueId == arrived.ValueId);
                queued.TryAdd((value.Input, value.ValueId), value);
            }

            foreach (var gone in result.Unqueued)
            {
                queued.Remove((gone.Input, gone.ValueId));
            }

            var rebuilt = AssemblerStateRows.Rebuild(task, queued.Values, live.Outstanding, live.NextArrival, live.NextSequence);
            ok &= AssemblerStateJson.Serialize(rebuilt) == AssemblerStateJson.Serialize(live);
        });

        return ok;
    }

    private static string Describe(AssemblyResult result) =>
        string.Join(";", result.Ready.Select(s => $"{s.Id}#{s.Sequence}{Render(s)}"))
        + "|" + string.Join(",", result.Consumed.Select(v => $"{v.Input}/{v.ValueId}@{v.Arrival}"));
}
