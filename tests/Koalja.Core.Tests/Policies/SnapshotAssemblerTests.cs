using Koalja.Core.Policies;
using Koalja.Core.Spec;
using static Koalja.Core.Tests.Policies.Tasks;

namespace Koalja.Core.Tests.Policies;

public sealed class SnapshotAssemblerTests
{
    [Fact]
    public void ThreeInputsWithDifferentLengthsFireWhenEveryMinimumIsMetAndTakeUpToEachMaximum()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A", min: 2, max: 4), Input("B", min: 1, max: 2), Input("C", required: 3)));

        Assert.Empty(d.Arrive("A:a1", "B:b1", "C:c1", "C:c2", "A:a2", "B:b2", "B:b3", "A:a3"));
        Assert.Equal(["⟨A:[a1,a2,a3],B:[b1,b2],C:[c1,c2,c3]⟩"], d.Arrive("C:c3"));
        // b3 waited in its link (B's maximum is 2) and now leads B's next sequence.
        Assert.Equal(["b3"], d.Assembler.ExportState().Streams[1].Buffer.Select(v => v.ValueId));
    }

    [Fact]
    public void SeveralMergedInputsJoinOneSequenceInArrivalOrder()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew,
            Input("main", min: 2), Input("east", mergeInto: "main"), Input("west", mergeInto: "main")));

        var runs = d.Arrive("east:e1", "west:w1", "main:m1", "west:w2", "east:e2");

        Assert.Equal(["⟨[e1,w1]⟩", "⟨[m1,w2]⟩"], runs);
        Assert.Equal(["east", "west"], d.Snapshots[0].Inputs[0].Values.Select(v => v.Input));
        Assert.Equal(["e2"], d.Assembler.ExportState().Streams.Single().Buffer.Select(v => v.ValueId));
    }

    [Fact]
    public void MergedValuesWaitingForAFullBufferEnterInArrivalOrder()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew,
            Input("main"), Input("side", mergeInto: "main"), Input("other")));

        Assert.Empty(d.Arrive("side:s1", "main:m1", "side:s2"));
        Assert.Equal(["⟨main:[s1],other:[o1]⟩", "⟨main:[m1],other:[o2]⟩", "⟨main:[s2],other:[o3]⟩"], d.Arrive("other:o1", "other:o2", "other:o3"));
    }

    [Fact]
    public void AFailureThatWillBeRetriedKeepsTheValuesReserved()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A")));
        d.Arrive("a1");

        Assert.Empty(d.Fail(0));
        Assert.Empty(d.Fail(0));
        Assert.Equal(2, d.Assembler.ExportState().Outstanding.Single().Failures);
        Assert.True(d.Assembler.IsHeld("A", "a1"));
        Assert.Equal(["a1"], d.Succeed(0));
        Assert.False(d.Assembler.IsHeld("A", "a1"));
    }

    [Fact]
    public void ADeadLetteredSnapshotConsumesItsValuesAndTheyAreNotUsedAgain()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A")));
        d.Arrive("a1", "a2");

        Assert.Equal(["a1"], d.DeadLetter(0));
        Assert.Equal(["⟨[a3]⟩"], d.Arrive("a3"));
        Assert.Equal(2, d.Assembler.OutstandingCount);
    }

    [Fact]
    public void ADeadLetteredWindowKeepsItsOverlapForTheNextWindow()
    {
        using var d = new Driver(Task(SnapshotPolicy.SlidingWindow, Input("F", required: 3, slide: 1)));
        d.Arrive("f1", "f2", "f3");

        Assert.Equal(["f1"], d.DeadLetter(0));
        Assert.Equal(["⟨[f2,f3,f4]⟩"], d.Arrive("f4"));
    }

    [Fact]
    public void ARedeliveredValueThatIsStillHeldIsIgnored()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A", min: 2)));

        Assert.Empty(d.Arrive("a1", "a1"));
        Assert.Equal(["⟨[a1,a2]⟩"], d.Arrive("a2"));
    }

    [Fact]
    public void TheSameValueOnTwoInputsIsUsedOnEach()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("left"), Input("right")));

        Assert.Equal(["⟨left:[v],right:[v]⟩"], d.Arrive("left:v", "right:v"));
        Assert.Equal(["v", "v"], d.Succeed(0));
    }

    [Fact]
    public void FinishingAnUnknownOrFinishedSnapshotChangesNothing()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A")));
        d.Arrive("a1");
        d.Succeed(0);

        Assert.Empty(d.Succeed(0));
        Assert.True(d.Assembler.Apply(new SnapshotSucceeded("nope")).Consumed.Count == 0);
    }

    [Fact]
    public void SnapshotIdsDependOnTaskCodeVersionAndTheOrderedValues()
    {
        var task = Task(SnapshotPolicy.AllNew, Input("A", min: 2));
        string IdOf(string code, params string[] values)
        {
            using var d = new Driver(task, code);
            d.Arrive(values);
            return d.Snapshots.Single().Id;
        }

        Assert.Equal(IdOf("v1", "x", "y"), IdOf("v1", "x", "y"));
        Assert.NotEqual(IdOf("v1", "x", "y"), IdOf("v2", "x", "y"));
        Assert.NotEqual(IdOf("v1", "x", "y"), IdOf("v1", "y", "x"));
        Assert.NotEqual(IdOf("v1", "xy", "z"), IdOf("v1", "x", "yz"));
        Assert.Matches("^[0-9a-f]{32}$", IdOf("v1", "x", "y"));
    }

    [Fact]
    public void ValuesOnAnUnknownInputAreRefused()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A")));

        Assert.Throws<ArgumentException>(() => d.Assembler.Apply(new ValueArrived("B", "b1")));
    }

    [Fact]
    public void ATaskWithoutInputsHasNoAssembler() =>
        Assert.Throws<ArgumentException>(() => new SnapshotAssembler(new TaskSpec { Name = "drop", Type = "FileDrop" }, "v1"));

    [Fact]
    public void StateSurvivesAJsonRoundTripExactly()
    {
        var task = Task(SnapshotPolicy.SlidingWindow, Input("A", required: 3, slide: 2), Input("B", required: 1));
        using var d = new Driver(task);
        d.Arrive("A:a1", "A:a2", "A:a3", "A:a4", "A:a5", "B:b1");
        d.Fail(0);
        var json = AssemblerStateJson.Serialize(d.Assembler.ExportState());

        using var reloaded = SnapshotAssembler.FromState(task, "v1", AssemblerStateJson.Deserialize(json));

        Assert.Equal(json, AssemblerStateJson.Serialize(reloaded.ExportState()));
        var next = reloaded.Apply(new ValueArrived("B", "b2")).Ready.Select(Render);
        Assert.Equal(d.Arrive("B:b2"), next);
    }

    [Fact]
    public void ValuesWaitingInTheirLinkAreStillHeldAfterAReload()
    {
        var task = Task(SnapshotPolicy.AllNew, Input("A"), Input("B"));
        using var original = new SnapshotAssembler(task, "v1");
        original.Apply(new ValueArrived("A", "a1"));
        original.Apply(new ValueArrived("A", "a2"));
        Assert.Equal(["a2"], original.ExportState().Streams[0].Waiting.Select(v => v.ValueId));

        using var reloaded = SnapshotAssembler.FromState(task, "v1", AssemblerStateJson.Deserialize(AssemblerStateJson.Serialize(original.ExportState())));

        Assert.True(reloaded.IsHeld("A", "a2"));
        var rest = new List<AssemblerEvent> { new ValueArrived("A", "a2"), new ValueArrived("B", "b1"), new ValueArrived("B", "b2"), new ValueArrived("B", "b3") };
        var snapshots = new List<Snapshot>();
        foreach (var e in rest)
        {
            var expected = original.Apply(e);
            var ready = expected.Ready.ToArray();
            var consumed = expected.Consumed.ToArray();
            var actual = reloaded.Apply(e);
            Assert.Equal(ready.Select(Describe), actual.Ready.Select(Describe));
            Assert.Equal(consumed, actual.Consumed);
            snapshots.AddRange(ready);
        }

        // the redelivered a2 was recognised: two snapshots, and b3 waits for a new value on A
        Assert.Equal(["⟨A:[a1],B:[b1]⟩", "⟨A:[a2],B:[b2]⟩"], snapshots.Select(Render));
        foreach (var snapshot in snapshots)
        {
            var expected = original.Apply(new SnapshotSucceeded(snapshot.Id)).Consumed.ToArray();
            Assert.Equal(expected, reloaded.Apply(new SnapshotSucceeded(snapshot.Id)).Consumed);
            Assert.Equal(2, expected.Length);
        }
    }

    [Fact]
    public void AfterASnapshotWaitingValuesRefillTheBufferUpToItsMaximum()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A", min: 1, max: 2), Input("B")));
        d.Arrive("A:a1", "A:a2", "A:a3", "A:a4", "A:a5");

        Assert.Equal(["⟨A:[a1,a2],B:[b1]⟩"], d.Arrive("B:b1"));
        var a = d.Assembler.ExportState().Streams[0];
        Assert.Equal(["a3", "a4"], a.Buffer.Select(v => v.ValueId));
        Assert.Equal(["a5"], a.Waiting.Select(v => v.ValueId));
        Assert.Equal(["⟨A:[a3,a4],B:[b2]⟩", "⟨A:[a5],B:[b3]⟩"], d.Arrive("B:b2", "B:b3"));
    }

    [Fact]
    public void EachEventReportsOnlyTheValuesThatLeftTheirQueueInThatEvent()
    {
        using var assembler = new SnapshotAssembler(Task(SnapshotPolicy.AllNew, Input("A")), "v1");

        var first = assembler.Apply(new ValueArrived("A", "a1")).Unqueued.Select(v => v.ValueId).ToArray();
        var second = assembler.Apply(new ValueArrived("A", "a2")).Unqueued.Select(v => v.ValueId).ToArray();
        var third = assembler.Apply(new SnapshotSucceeded(assembler.ExportState().Outstanding[0].Snapshot.Id)).Unqueued.Select(v => v.ValueId).ToArray();

        Assert.Equal(["a1"], first);
        Assert.Equal(["a2"], second);
        Assert.Empty(third);
    }

    [Fact]
    public void NewCodeGivesNewSnapshotsNewIdsAndLeavesOutstandingSnapshotsAsTheyWere()
    {
        var task = Task(SnapshotPolicy.AllNew, Input("A"));
        using var d = new Driver(task);
        d.Arrive("a1");
        var before = d.Snapshots[0];

        d.Assembler.CodeVersion = "v2";
        d.Arrive("a2");

        using var v2 = new Driver(task, "v2");
        v2.Arrive("a1", "a2");
        Assert.Equal("v2", d.Assembler.CodeVersion);
        Assert.Equal(v2.Snapshots[1].Id, d.Snapshots[1].Id);
        Assert.NotEqual(v2.Snapshots[0].Id, before.Id);
        Assert.Equal(before, d.Assembler.ExportState().Outstanding[0].Snapshot);
    }

    [Fact]
    public void ASnapshotFindsTheValuesOfAnInputByName()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A"), Input("B", min: 2)));
        d.Arrive("A:a1", "B:b1", "B:b2");
        var snapshot = d.Snapshots.Single();

        Assert.Equal(["b1", "b2"], snapshot["B"]!.Values.Select(v => v.ValueId));
        Assert.Equal(["a1"], snapshot["A"]!.Values.Select(v => v.ValueId));
        Assert.Null(snapshot["C"]);
    }

    [Fact]
    public void ThePureFormGivesTheSameAsTheAssembler()
    {
        var task = Task(SnapshotPolicy.AllNew, Input("A", min: 2));
        var state = SnapshotAssembly.Initial(task, "v1");

        (state, var first, _) = SnapshotAssembly.Apply(task, "v1", state, new ValueArrived("A", "a1"));
        (state, var second, _) = SnapshotAssembly.Apply(task, "v1", state, new ValueArrived("A", "a2"));
        (_, _, var consumed) = SnapshotAssembly.Apply(task, "v1", state, new SnapshotSucceeded(second.Single().Id));

        Assert.Empty(first);
        Assert.Equal("⟨[a1,a2]⟩", Render(second.Single()));
        Assert.Equal(["a1", "a2"], consumed.Select(v => v.ValueId));
    }

    private static string Describe(Snapshot snapshot) => $"{snapshot.Id}#{snapshot.Sequence}{Render(snapshot)}";
}
