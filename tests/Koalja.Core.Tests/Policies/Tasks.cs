using Koalja.Core.Policies;
using Koalja.Core.Spec;

namespace Koalja.Core.Tests.Policies;

/// <summary>Small task specs and a driver that renders snapshots as ⟨A:[a1,a2],B:[b1]⟩.</summary>
internal static class Tasks
{
    public static TaskInputSpec Input(string name, long? min = null, long? max = null, long? required = null, long? slide = null, string? mergeInto = null) =>
        new() { Name = name, TypeRef = "t", MinSequenceLength = min, MaxSequenceLength = max, RequiredSequenceLength = required, Slide = slide, MergeInto = mergeInto };

    public static TaskSpec Task(SnapshotPolicy policy, params TaskInputSpec[] inputs) =>
        new() { Name = "task", SnapshotPolicy = policy.ToString(), Inputs = inputs, Outputs = [new TaskOutputSpec { Name = "out", TypeRef = "t" }] };

    public static string Render(Snapshot snapshot) =>
        snapshot.Inputs.Count == 1
            ? $"⟨[{string.Join(",", snapshot.Inputs[0].Values.Select(v => v.ValueId))}]⟩"
            : $"⟨{string.Join(",", snapshot.Inputs.Select(i => $"{i.Name}:[{string.Join(",", i.Values.Select(v => v.ValueId))}]"))}⟩";

    /// <summary>Feeds arrivals written as "A:a1" (input A, value a1) or "a1" (the first input) and collects what comes out.</summary>
    public sealed class Driver(TaskSpec task, string codeVersion = "v1") : IDisposable
    {
        public SnapshotAssembler Assembler { get; } = new(task, codeVersion);

        public List<Snapshot> Snapshots { get; } = [];

        public List<string> Consumed { get; } = [];

        public List<string> Arrive(params string[] arrivals)
        {
            var before = Snapshots.Count;
            foreach (var arrival in arrivals)
            {
                var (input, value) = arrival.Contains(':', StringComparison.Ordinal)
                    ? (arrival[..arrival.IndexOf(':', StringComparison.Ordinal)], arrival[(arrival.IndexOf(':', StringComparison.Ordinal) + 1)..])
                    : (task.Inputs[0].Name, arrival);
                Collect(Assembler.Apply(new ValueArrived(input, value)));
            }

            return Snapshots.Skip(before).Select(Render).ToList();
        }

        public List<string> Succeed(int index) => Finish(new SnapshotSucceeded(Snapshots[index].Id));

        public List<string> DeadLetter(int index) => Finish(new SnapshotDeadLettered(Snapshots[index].Id));

        public List<string> Fail(int index) => Finish(new SnapshotFailed(Snapshots[index].Id));

        public void Dispose() => Assembler.Dispose();

        private List<string> Finish(AssemblerEvent e)
        {
            var before = Consumed.Count;
            Collect(Assembler.Apply(e));
            return Consumed.Skip(before).ToList();
        }

        private void Collect(AssemblyResult result)
        {
            Snapshots.AddRange(result.Ready);
            Consumed.AddRange(result.Consumed.Select(v => v.ValueId));
        }
    }
}
