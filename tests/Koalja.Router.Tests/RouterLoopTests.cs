using Koalja.Router.Registry;

namespace Koalja.Router.Tests;

/// <summary>The router's one writer loop keeps going whatever its after-commit effects do.</summary>
public sealed class RouterLoopTests
{
    [Fact]
    public async Task ASubscriberThatThrowsDoesNotStopTheRouter()
    {
        await using var koalja = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"));
        var seen = 0;
        void Throwing(ValueRecord value)
        {
            Interlocked.Increment(ref seen);
            throw new InvalidOperationException("a broken subscriber");
        }

        koalja.Server.Router.ValueRecorded += Throwing;
        try
        {
            await koalja.DropAsync("linecount", "fileDropInput", "a\nb\n");

            // Every later command must still be applied: before the fix the loop died on the first throw and this drop never answered.
            var second = koalja.DropAsync("linecount", "fileDropInput", "c\n");
            Assert.Same(second, await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(20))));
            await second;
            Assert.True(Volatile.Read(ref seen) >= 2);
        }
        finally
        {
            koalja.Server.Router.ValueRecorded -= Throwing;
        }
    }
}
