using System.Net.Http.Json;
using System.Text.Json;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Koalja.Router.Tests;

/// <summary>How hosts compose Koalja: settings checked before anything runs, and one clock for everything that waits.</summary>
public sealed class CompositionTests
{
    [Fact]
    public void BadRuntimeSettingsStopTheHostAndEachIsNamedWithItsFlag()
    {
        var options = new RuntimeOptions { MaxAttempts = 0, SlotsPerTask = -2, CommandTimeout = TimeSpan.Zero, LeaseTtl = TimeSpan.FromSeconds(1) };

        var e = Assert.Throws<OptionsValidationException>(() => new ServiceCollection().AddKoaljaRouter(options, []));

        Assert.Equal(
            [
                "RuntimeOptions: MaxAttempts (--max-attempts) must be at least 1; it is 0",
                "RuntimeOptions: SlotsPerTask (--slots) must be at least 1; it is -2",
                "RuntimeOptions: CommandTimeout (--timeout) must be more than zero; it is 00:00:00",
                "RuntimeOptions: LeaseTtl must be at least 3 seconds (it is renewed every third of it); it is 00:00:01",
            ], e.Failures);
        Assert.Empty(new RuntimeOptions().Problems());
    }

    [Fact]
    public async Task RetriesWaitOnTheHostsClockNotTheWallClock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var pipeline = KoaljaTestServer.Load("""
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {name: retry}
            spec:
              tasks:
              - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
              - name: work
                inputs: [{name: in, typeRef: text}]
                outputs: [{name: out, typeRef: text}]
                executor: {image: alpine, command: ["/bin/sh", "-c", "echo always fails >&2; exit 1"]}
              links: [{name: l, sourceRef: drop/file, destinationRef: work/in}]
              types: [{name: text, protocol: File, format: Text}]
            """);
        await using var server = await KoaljaTestServer.StartAsync(pipeline,
            new RuntimeOptions { MaxAttempts = 3, RetryDelay = TimeSpan.FromHours(1), MaxRetryDelay = TimeSpan.FromHours(4), CommandTimeout = TimeSpan.FromDays(1) }, time: clock);

        await server.DropAsync("retry", "drop", "x");
        await FailedAttempts(server, 1);
        await Task.Delay(300); // a wall-clock wait: the retry is an hour away on the host's clock
        Assert.Equal(1, await FailedAttempts(server, 1));

        clock.Advance(TimeSpan.FromHours(1));
        await FailedAttempts(server, 2);
        clock.Advance(TimeSpan.FromHours(2)); // the delay doubles
        await FailedAttempts(server, 3);

        var dead = Assert.Single((await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/retry/dead-letters")).EnumerateArray());
        Assert.Equal(3, dead.GetProperty("attempts").GetInt32());
    }

    /// <summary>Waits (up to 20 s of wall-clock time) until the task has failed <paramref name="expected"/> times.</summary>
    private static async Task<long> FailedAttempts(KoaljaTestServer server, long expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var status = await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/retry");
            var failed = status.GetProperty("tasks")[1].GetProperty("failedAttempts").GetInt64();
            if (failed >= expected || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expected, failed);
                return failed;
            }

            await Task.Delay(20);
        }
    }
}
