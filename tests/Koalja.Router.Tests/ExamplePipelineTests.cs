namespace Koalja.Router.Tests;

/// <summary>The four example pipelines, through the real HTTP API, with real /bin/sh commands.</summary>
public sealed class ExamplePipelineTests
{
    [Fact]
    public async Task LinecountCountsTheLinesLeftAfterUniqAndKeepsThreeLevelsOfLineage()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"));

        var drop = await server.DropAsync("linecount", "fileDropInput", "a\na\nb\n");
        await server.WaitIdleAsync("linecount");

        var count = Assert.Single(await server.ValuesAsync("linecount", "countLines"));
        Assert.Equal("2", (await server.ContentAsync(count.GetProperty("id").GetString()!)).Trim());
        var uniq = Assert.Single(await server.SourcesAsync(count.GetProperty("id").GetString()!));
        Assert.Equal("a\nb\n", await server.ContentAsync(uniq));
        var dropped = Assert.Single(await server.SourcesAsync(uniq));
        Assert.Equal(drop.GetProperty("id").GetString(), dropped);
        Assert.Empty(await server.SourcesAsync(dropped));
        var execution = (await server.ValueAsync(count.GetProperty("id").GetString()!)).GetProperty("execution");
        Assert.Equal("succeeded", execution.GetProperty("status").GetString());
        Assert.Equal(0, execution.GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public async Task Batch2RunsOnceForTwoDropsAndAThirdDropWaitsForAFourth()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount-batch2"));

        await server.DropAsync("linecount-batch2", "fileDropInput", "x\ny\n");
        await server.DropAsync("linecount-batch2", "fileDropInput", "y\nz\n");
        await server.WaitIdleAsync("linecount-batch2");
        Assert.Single(await server.ValuesAsync("linecount-batch2", "removeDuplicates"));
        var count = Assert.Single(await server.ValuesAsync("linecount-batch2", "countLines"));
        Assert.Equal("3", (await server.ContentAsync(count.GetProperty("id").GetString()!)).Trim()); // x y z after uniq of "x y y z"

        await server.DropAsync("linecount-batch2", "fileDropInput", "w\n");
        var status = await server.WaitIdleAsync("linecount-batch2");
        Assert.Single(await server.ValuesAsync("linecount-batch2", "removeDuplicates"));
        Assert.Single(await server.ValuesAsync("linecount-batch2", "countLines"));
        Assert.Equal(1, status.GetProperty("tasks")[1].GetProperty("queued").GetInt64());
    }

    [Fact]
    public async Task SlideCountsFourFilesThenTheLastFourAfterEveryTwoMore()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount-slide"));
        var drops = new List<string>();
        for (var i = 1; i <= 4; i++)
        {
            drops.Add((await server.DropAsync("linecount-slide", "fileDropInput", $"line {i}\n", key: $"f{i}")).GetProperty("id").GetString()!);
            await server.WaitIdleAsync("linecount-slide"); // keep arrival order equal to drop order
        }

        var first = Assert.Single(await server.ValuesAsync("linecount-slide", "countLines"));
        Assert.Equal("4", (await server.ContentAsync(first.GetProperty("id").GetString()!)).Trim());

        for (var i = 5; i <= 6; i++)
        {
            drops.Add((await server.DropAsync("linecount-slide", "fileDropInput", $"line {i}\n", key: $"f{i}")).GetProperty("id").GetString()!);
            await server.WaitIdleAsync("linecount-slide");
        }

        var counts = await server.ValuesAsync("linecount-slide", "countLines");
        Assert.Equal(2, counts.Count);
        var window = new List<string>();
        foreach (var uniq in await server.SourcesAsync(counts[1].GetProperty("id").GetString()!))
        {
            window.Add(Assert.Single(await server.SourcesAsync(uniq)));
        }

        Assert.Equal(drops[2..6], window);
    }

    [Fact]
    public async Task MergeIntoRunsOnceForADropIntoEitherInput()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount-mergeinto"));

        await server.DropAsync("linecount-mergeinto", "fileDropInput1", "one\n");
        await server.DropAsync("linecount-mergeinto", "fileDropInput2", "two\ntwo\n");
        await server.WaitIdleAsync("linecount-mergeinto");

        var uniq = await server.ValuesAsync("linecount-mergeinto", "removeDuplicates");
        Assert.Equal(2, uniq.Count);
        Assert.Equal(2, (await server.ValuesAsync("linecount-mergeinto", "countLines")).Count);
        var arrivedOn = new List<string>();
        foreach (var value in uniq)
        {
            var inputs = (await server.ValueAsync(value.GetProperty("id").GetString()!)).GetProperty("inputs");
            arrivedOn.Add(inputs.GetProperty("inputFile1")[0].GetProperty("arrivedOn").GetString()!);
        }

        Assert.Equal(["inputFile1", "inputFile2"], arrivedOn.Order());
    }
}
