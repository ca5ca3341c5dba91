using FsCheck.Xunit;
using Koalja.Core.Policies;
using Koalja.Core.Spec;
using static Koalja.Core.Tests.Policies.Tasks;

namespace Koalja.Core.Tests.Policies;

/// <summary>Sequence numbers give the order in which a task's snapshots became ready; the registry stores the next one.</summary>
public sealed class SnapshotSequenceTests
{
    [Fact]
    public void ANewTasksSnapshotsAreNumberedFromZeroInTheOrderTheyBecomeReady()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A")));

        d.Arrive("a1", "a2", "a3");

        Assert.Equal([0L, 1L, 2L], d.Snapshots.Select(s => s.Sequence));
        Assert.Equal(3, d.Assembler.ExportState().NextSequence);
    }

    [Fact]
    public void AReloadedAssemblerNumbersOnFromTheRegistrysNextSequence()
    {
        var task = Task(SnapshotPolicy.SlidingWindow, Input("A", required: 2, slide: 1));
        var state = SnapshotAssembly.Initial(task, "v1") with { NextSequence = 41 };
        using var assembler = SnapshotAssembler.FromState(task, "v1", state);

        var sequences = new[] { "a1", "a2", "a3", "a4" }
            .SelectMany(v => assembler.Apply(new ValueArrived("A", v)).Ready.Select(s => s.Sequence).ToArray())
            .ToList();

        Assert.Equal([41L, 42L, 43L], sequences);
        Assert.Equal(44, assembler.ExportState().NextSequence);
    }

    [Property(MaxTest = 300)]
    public bool ConsecutiveSnapshotsGetConsecutiveSequenceNumbersFromTheNextSequence(byte policy, int[] shape, int[] script, ushort start)
    {
        var task = Scenario.TaskFor((SnapshotPolicy)(policy % 3), shape);
        var events = Scenario.Play(task, script).Events;
        using var assembler = SnapshotAssembler.FromState(task, "v1", SnapshotAssembly.Initial(task, "v1") with { NextSequence = start });

        var sequences = events.SelectMany(e => assembler.Apply(e).Ready.Select(s => s.Sequence).ToArray()).ToList();

        return sequences.SequenceEqual(Enumerable.Range(0, sequences.Count).Select(i => (long)start + i))
            && assembler.ExportState().NextSequence == start + sequences.Count;
    }
}
