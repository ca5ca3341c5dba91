using Koalja.Router.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Koalja.Router.Tests;

/// <summary>
/// The scaling decision over time, on a fake clock, with the real router and real commands: the task's worker slots in
/// <c>koalja up</c> follow the same decision and cooldown the scaler reports to KEDA.
/// </summary>
public sealed class ScalingSimulationTests : IDisposable
{
    private const int Slots = 8;
    private static readonly TimeSpan Cooldown = TimeSpan.FromSeconds(30);
    private readonly GatedPipeline _gated = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero));

    public void Dispose() => _gated.Dispose();

    [Fact]
    public async Task FiveHundredDropsRaiseABatchTaskToItsMostSlotsAndTheCooldownTakesItToZero()
    {
        await using var koalja = await KoaljaTestServer.StartAsync(_gated.Pipeline,
            new RuntimeOptions { SlotsPerTask = Slots, SlotCooldown = Cooldown, RetryDelay = TimeSpan.FromMilliseconds(50) }, time: _time);
        var router = koalja.Server.Router;
        TaskScaling Batch() => router.Scaling("gated", "batch")!;
        TaskScaling Window() => router.Scaling("gated", "window")!;
        var mostBatch = 0;
        var mostWindowDesired = 0;
        var mostWindowSlots = 0;
        void Sample()
        {
            mostBatch = Math.Max(mostBatch, Math.Max(Batch().DesiredSlots, Batch().ActiveSlots));
            mostWindowDesired = Math.Max(mostWindowDesired, Window().DesiredSlots);
            mostWindowSlots = Math.Max(mostWindowSlots, Window().ActiveSlots);
        }

        Assert.Equal((0, 0), (Batch().DesiredSlots, Batch().ActiveSlots)); // nothing runs before there is work
        for (var i = 0; i < 500; i++)
        {
            await koalja.DropAsync("gated", "fileDrop", $"value {i}\n");
            if (i % 25 == 0)
            {
                Sample();
            }
        }

        await WaitForAsync(() => Batch().Load.Work == 500 && Window().Load.Work == 249, Sample, "500 batch snapshots and 249 windows");
        Assert.Equal(Slots, Batch().DesiredSlots);
        Assert.Equal(Slots, Batch().ActiveSlots);
        Assert.Equal(Slots, Batch().Load.InFlight);
        Assert.Equal((1, 1), (Window().DesiredSlots, Window().ActiveSlots));

        _gated.Open();
        await WaitForAsync(() => Batch().Load.Work == 0 && Window().Load.Work == 0, Sample, "the queues to drain");
        Assert.Equal(Slots, mostBatch);
        Assert.Equal(1, mostWindowDesired); // the SlidingWindow task never asked for more than one
        Assert.Equal(1, mostWindowSlots);

        // Drained, but the cooldown has not passed on the task's clock: the slots stay, ready for more.
        Assert.Equal(Slots, Batch().DesiredSlots);
        for (var step = 0; step < 5; step++)
        {
            _time.Advance(Cooldown / 6);
        }

        Assert.Equal(Slots, Batch().DesiredSlots);
        _time.Advance(Cooldown / 6);
        Assert.Equal(0, Batch().DesiredSlots);
        Assert.Equal(0, Window().DesiredSlots);
        await WaitForAsync(() => Batch().ActiveSlots == 0 && Window().ActiveSlots == 0, () => { }, "the idle slots to retire");
        Assert.Equal(500, (await koalja.ValuesAsync("gated", "batch")).Count);

        // And work wakes them again.
        await koalja.DropAsync("gated", "fileDrop", "later\n");
        await koalja.WaitIdleAsync("gated");
        Assert.Equal(1, Batch().DesiredSlots);
    }

    private static async Task WaitForAsync(Func<bool> condition, Action sample, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!condition())
        {
            sample();
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }

        sample();
    }
}

/// <summary>Slots that retire the moment they are idle (no cooldown) and start again with the next drop keep their count right.</summary>
public sealed class SlotChurnTests
{
    [Fact]
    public async Task WithNoCooldownSlotsComeAndGoAndNeverExceedTheMost()
    {
        await using var koalja = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"),
            new RuntimeOptions { SlotsPerTask = 2, SlotCooldown = TimeSpan.Zero, RetryDelay = TimeSpan.FromMilliseconds(50) });
        var router = koalja.Server.Router;
        var most = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                most = Math.Max(most, Math.Max(router.Scaling("linecount", "removeDuplicates")!.ActiveSlots, router.Scaling("linecount", "countLines")!.ActiveSlots));
                await Task.Delay(1);
            }
        });
        for (var round = 0; round < 20; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 1 + (round % 4)).Select(i => koalja.DropAsync("linecount", "fileDropInput", $"round {round} file {i}\n")));
            if (round % 3 == 0)
            {
                await koalja.WaitIdleAsync("linecount"); // every slot retires, and the next drop starts them again
            }
        }

        await koalja.WaitIdleAsync("linecount");
        await sampling.CancelAsync();
        await sampler;
        Assert.InRange(most, 1, 2);
        Assert.Equal(50, (await koalja.ValuesAsync("linecount", "countLines")).Count);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (router.Scaling("linecount", "countLines")!.ActiveSlots != 0 || router.Scaling("linecount", "removeDuplicates")!.ActiveSlots != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "idle slots did not retire");
            await Task.Delay(10);
        }
    }
}
