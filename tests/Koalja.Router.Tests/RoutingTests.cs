using Koalja.Core.Contract;
using Koalja.Router.Runtime;

namespace Koalja.Router.Tests;

/// <summary>How the router describes and hands out snapshots, and how it keeps a task's current code.</summary>
public sealed class RoutingTests
{
    [Fact]
    public async Task ReadySnapshotsAreDescribedFromTheValuesInHandWithoutReadingTheRegistryInTheTransaction()
    {
        await using var koalja = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"));
        var writer = koalja.Server.Router.State.Writer;
        var before = writer.ReadersOpened;
        for (var i = 0; i < 5; i++)
        {
            await koalja.DropAsync("linecount", "fileDropInput", $"line {i}\n");
        }

        var idle = await koalja.WaitIdleAsync("linecount");

        // 5 drops, each a snapshot of the first task whose output makes a snapshot of the second: ten snapshots described, no read
        Assert.Equal(5, (await koalja.ValuesAsync("linecount", "countLines")).Count);
        Assert.Equal(before, writer.ReadersOpened);

        // and once every snapshot succeeded, every queued value is consumed and the router holds none of them any more
        foreach (var link in idle.GetProperty("links").EnumerateArray())
        {
            Assert.Equal((0L, 0L, 5L), (link.GetProperty("queued").GetInt64(), link.GetProperty("taken").GetInt64(), link.GetProperty("consumed").GetInt64()));
        }

        Assert.All(koalja.Server.Router.Pipelines["linecount"].InHand.Values, Assert.Empty);
    }

    [Fact]
    public async Task ATasksCurrentCodeIsNeverSeenHalfChanged()
    {
        var pipeline = KoaljaTestServer.Example("linecount");
        var runtime = new PipelineRuntime(pipeline);
        var task = pipeline.Spec.Tasks[1].Name;
        var spec = runtime.SpecCodeVersions[task];
        var dropped = new TaskCode("dropped-1", CodeKind.Script, new string('a', 64), "main.sh");
        var writes = 0L;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                runtime.UseCode(task, i % 2 == 0 ? dropped : null);
                Interlocked.Increment(ref writes);
            }
        });

        // HTTP threads read the version and the dropped code together: the pair must always belong together
        var reads = 0L;
        var torn = 0L;
        while (reads < 100_000 || Interlocked.Read(ref writes) < 100_000)
        {
            var code = runtime.Code(task);
            torn += code.Version == (code.Dropped?.Version ?? spec) ? 0 : 1;
            reads++;
        }

        await stop.CancelAsync();
        await writer;
        Assert.Equal(0, torn);
    }
}
