using Koalja.Core.Spec;
using static Koalja.Core.Tests.Policies.Tasks;

namespace Koalja.Core.Tests.Policies;

/// <summary>The worked examples of the original Koalja's policy semantics, with SwapNew4Old as intended.</summary>
public sealed class WorkedExampleTests
{
    [Fact]
    public void AllNewWithOneValuePerInputRunsOncePerValue()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A")));

        Assert.Equal(["⟨[a1]⟩", "⟨[a2]⟩", "⟨[a3]⟩"], d.Arrive("a1", "a2", "a3"));
        Assert.Equal(["a2"], d.Succeed(1));
        Assert.Equal(["a1"], d.Succeed(0));
        Assert.Equal(["a3"], d.Succeed(2));
    }

    [Fact]
    public void AllNewWithMinimumTwoRunsOnPairsAndTheFifthValueWaits()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A", min: 2)));

        Assert.Equal(["⟨[a1,a2]⟩", "⟨[a3,a4]⟩"], d.Arrive("a1", "a2", "a3", "a4", "a5"));
        var stream = Assert.Single(d.Assembler.ExportState().Streams);
        Assert.Equal(["a5"], stream.Buffer.Select(v => v.ValueId));
    }

    [Fact]
    public void AllNewWithTwoInputsBuffersUpToTheMaximumWhileWaitingForTheSlowerInput()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("A", min: 1, max: 3), Input("B")));

        Assert.Empty(d.Arrive("A:a1", "A:a2", "A:a3", "A:a4"));
        var waiting = d.Assembler.ExportState().Streams[0];
        Assert.Equal((3, 1), (waiting.Buffer.Count, waiting.Waiting.Count));

        Assert.Equal(["⟨A:[a1,a2,a3],B:[b1]⟩"], d.Arrive("B:b1"));
        Assert.Equal(["a4"], d.Assembler.ExportState().Streams[0].Buffer.Select(v => v.ValueId));
        Assert.Equal(["⟨A:[a4],B:[b2]⟩"], d.Arrive("B:b2"));
    }

    [Fact]
    public void SlidingWindowOfFourWithSlideTwoRunsOnOverlappingWindows()
    {
        using var d = new Driver(Task(SnapshotPolicy.SlidingWindow, Input("F", required: 4, slide: 2)));

        Assert.Empty(d.Arrive("f1", "f2", "f3"));
        Assert.Equal(["⟨[f1,f2,f3,f4]⟩"], d.Arrive("f4"));
        Assert.Empty(d.Arrive("f5"));
        Assert.Equal(["⟨[f3,f4,f5,f6]⟩"], d.Arrive("f6"));
        Assert.Equal(["⟨[f5,f6,f7,f8]⟩"], d.Arrive("f7", "f8"));

        // f1 and f2 left the window after the first run: consumed once it succeeds.
        Assert.Equal(["f1", "f2"], d.Succeed(0));
        // f3 and f4 were in runs 1 and 2; the last run that can contain them is run 2.
        Assert.Equal(["f3", "f4"], d.Succeed(1));
        // f5..f8: f5 and f6 have left the window (run 3 was taken), f7 and f8 are still in it.
        Assert.Equal(["f5", "f6"], d.Succeed(2));
    }

    [Fact]
    public void SlidingWindowWithTwoInputsSlidesEachInputByItsOwnSlide()
    {
        using var d = new Driver(Task(SnapshotPolicy.SlidingWindow, Input("A", required: 2, slide: 1), Input("B", required: 1, slide: 1)));

        Assert.Equal(["⟨A:[a1,a2],B:[b1]⟩"], d.Arrive("A:a1", "B:b1", "A:a2"));
        Assert.Empty(d.Arrive("A:a3"));
        Assert.Equal(["⟨A:[a2,a3],B:[b2]⟩"], d.Arrive("B:b2"));
    }

    [Fact]
    public void SwapNew4OldReplacesTheOldValueAndRunsAgainWithTheOthersLatest()
    {
        using var d = new Driver(Task(SnapshotPolicy.SwapNew4Old, Input("A"), Input("B")));

        Assert.Equal(["⟨A:[a1],B:[b1]⟩"], d.Arrive("A:a1", "B:b1"));
        Assert.Equal(["⟨A:[a2],B:[b1]⟩"], d.Arrive("A:a2"));
        Assert.Equal(["⟨A:[a2],B:[b2]⟩"], d.Arrive("B:b2"));
        Assert.Equal(["⟨A:[a3],B:[b2]⟩", "⟨A:[a3],B:[b3]⟩"], d.Arrive("A:a3", "B:b3"));
    }

    [Fact]
    public void SwapNew4OldConsumesAValueOnceItWasReplacedAndEveryRunWithItSucceeded()
    {
        using var d = new Driver(Task(SnapshotPolicy.SwapNew4Old, Input("A"), Input("B")));
        d.Arrive("A:a1", "B:b1", "A:a2");

        Assert.Empty(d.Succeed(1));          // ⟨a2,b1⟩: a2 and b1 are still current
        Assert.Equal(["a1"], d.Succeed(0));  // ⟨a1,b1⟩: a1 was replaced, its last run is done
        Assert.Equal(["⟨A:[a2],B:[b2]⟩"], d.Arrive("B:b2"));
        Assert.Equal(["a1", "b1"], d.Consumed); // b1 replaced by b2, and both runs with b1 had succeeded
    }

    [Fact]
    public void MergedInputsFeedTheirTargetInArrivalOrder()
    {
        using var d = new Driver(Task(SnapshotPolicy.AllNew, Input("inputFile1"), Input("inputFile2", mergeInto: "inputFile1")));

        Assert.Equal(["⟨[x1]⟩", "⟨[y1]⟩", "⟨[x2]⟩"], d.Arrive("inputFile1:x1", "inputFile2:y1", "inputFile1:x2"));
        var fromMerged = d.Snapshots[1].Inputs.Single();
        Assert.Equal("inputFile1", fromMerged.Name);
        Assert.Equal("inputFile2", fromMerged.Values.Single().Input); // provenance keeps the input it came through
    }
}
