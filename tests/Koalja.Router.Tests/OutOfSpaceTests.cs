using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Koalja.Router.Runtime;
using Koalja.Testing;

namespace Koalja.Router.Tests;

/// <summary>A full disk (a real tmpfs filled up) is waited out: what it stopped is kept and runs again once there is room.</summary>
public sealed class OutOfSpaceTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("koalja-full-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [TmpfsFact]
    public async Task AnExecutionThatRanOutOfSpaceWaitsForRoomWithoutSpendingAttemptsAndHealthSaysSo()
    {
        using var work = new Tmpfs(Path.Combine(_data, "work"), 1024); // the working directories: outputs are written there
        var runtime = new RuntimeOptions { RetryDelay = TimeSpan.FromMilliseconds(50), MaxRetryDelay = TimeSpan.FromMilliseconds(200), CommandTimeout = TimeSpan.FromSeconds(30) };
        await using var server = await KoaljaTestServer.StartAsync(
            KoaljaTestServer.OneCommand("full", "head -c 300000 /dev/zero > \"$KOALJA_OUTPUT_OUT\""), runtime, data: _data);
        var filler = work.Fill();

        await server.DropAsync("full", "drop", "x");

        using (var health = await WaitForHealthAsync(server, HttpStatusCode.ServiceUnavailable))
        {
            var json = await health.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("out-of-space", json.GetProperty("status").GetString());
            Assert.Contains("task full/work ran out of disk space", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        await Task.Delay(TimeSpan.FromSeconds(1)); // well past the attempts a failure gets (3, 50 ms apart)
        var waiting = await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/full");
        Assert.Equal(0, waiting.GetProperty("deadLetters").GetInt64());
        Assert.Empty((await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/full/tasks/work/executions")).GetProperty("executions").EnumerateArray());

        File.Delete(filler); // room again
        await server.WaitIdleAsync("full");

        var output = Assert.Single(await server.ValuesAsync("full", "work"));
        Assert.Equal(300000, output.GetProperty("size").GetInt64());
        var execution = Assert.Single((await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/full/tasks/work/executions")).GetProperty("executions").EnumerateArray());
        Assert.Equal((1, "succeeded"), (execution.GetProperty("attempt").GetInt32(), execution.GetProperty("status").GetString()));
        using var healthy = await WaitForHealthAsync(server, HttpStatusCode.OK);
    }

    [TmpfsFact]
    public async Task ADropOntoAFullDiskIsA507ProblemThatRecordsNothingAndGoesThroughOnceThereIsRoom()
    {
        using var blobs = new Tmpfs(Path.Combine(_data, "blobs"), 1024); // the content store
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.OneCommand("full", "cp \"$KOALJA_INPUT_IN\" \"$KOALJA_OUTPUT_OUT\""), data: _data);
        var filler = blobs.Fill();

        using (var refused = await server.Http.PostAsync("pipelines/full/drop", new ByteArrayContent(new byte[200_000])))
        {
            Assert.Equal(HttpStatusCode.InsufficientStorage, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("ran out of disk space", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        using (var health = await server.Http.GetAsync("healthz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        }

        Assert.Empty(await server.ValuesAsync("full", "drop"));
        File.Delete(filler);
        await server.DropAsync("full", "drop", "room again");
        await server.WaitIdleAsync("full");
        Assert.Single(await server.ValuesAsync("full", "work"));
        using var healthy = await server.Http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    private static async Task<HttpResponseMessage> WaitForHealthAsync(KoaljaTestServer server, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var response = await server.Http.GetAsync("healthz");
            if (response.StatusCode == expected)
            {
                return response;
            }

            response.Dispose();
            Assert.True(DateTime.UtcNow < deadline, $"/healthz never answered {expected}");
            await Task.Delay(50);
        }
    }
}
