using System.Diagnostics;
using Koalja.Router.Registry;

namespace Koalja.Router.Tests;

/// <summary>Koalja on a PostgreSQL registry: the whole runtime, and several processes sharing the registry.</summary>
public sealed class SharedRegistryTests : IDisposable
{
    private readonly Testing.PostgresDatabase _database = new(Testing.TestServers.Postgres);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task LinecountRunsEndToEndOnPostgresWithItsLineage()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"), registry: _database.Url);
        Assert.Equal("postgresql", server.Server.Router.Registry.Engine);

        foreach (var text in new[] { "a\na\nb\n", "x\n", "1\n2\n3\n" })
        {
            await server.DropAsync("linecount", "fileDropInput", text);
        }

        await server.WaitIdleAsync("linecount");
        var counts = await server.ValuesAsync("linecount", "countLines");
        Assert.Equal(["1", "2", "3"], (await Task.WhenAll(counts.Select(v => server.ContentAsync(v.GetProperty("id").GetString()!)))).Select(c => c.Trim()).Order());
        var lineage = await server.Http.GetStringAsync($"api/values/{counts[0].GetProperty("id").GetString()}/lineage");
        Assert.Contains("\"task\":\"fileDropInput\"", lineage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecondProcessCannotRouteAPipelineTheFirstRunsAndTakesItOverOnceItStops()
    {
        var first = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"), registry: _database.Url);
        await first.DropAsync("linecount", "fileDropInput", "before\n");
        await first.WaitIdleAsync("linecount");

        var refused = await Assert.ThrowsAsync<PipelineLeasedException>(() => KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"), registry: _database.Url));
        Assert.Contains($"Pipeline 'linecount' is run by another Koalja process (pid {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);

        await first.DisposeAsync();
        await using var second = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"), registry: _database.Url);
        await second.DropAsync("linecount", "fileDropInput", "after\n");
        await second.WaitIdleAsync("linecount");
        Assert.Equal(2, (await second.ValuesAsync("linecount", "countLines")).Count);
    }

    [Fact]
    public async Task AProcessWhoseLeaseWasTakenStopsRoutingThePipeline()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"),
            new Runtime.RuntimeOptions { RetryDelay = TimeSpan.FromMilliseconds(50), LeaseTtl = TimeSpan.FromMilliseconds(600) }, registry: _database.Url);
        await server.DropAsync("linecount", "fileDropInput", "mine\n");

        // another process takes the pipeline over (as if this one had been paused past its lease)
        using (var connection = new Npgsql.NpgsqlConnection(_database.ConnectionString))
        {
            connection.Open();
            using var steal = new Npgsql.NpgsqlCommand("UPDATE pipeline_leases SET owner = 'thief', host = 'elsewhere', expires_at = '9999-12-31T00:00:00.0000000+00:00'", connection);
            Assert.Equal(1, steal.ExecuteNonQuery());
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        System.Net.HttpStatusCode status;
        string body;
        do
        {
            await Task.Delay(100);
            using var response = await server.Http.PostAsync("pipelines/linecount/fileDropInput", new StringContent("not mine\n"));
            (status, body) = (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        while (status != System.Net.HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline);

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("is now run by another Koalja process", body, StringComparison.Ordinal);
    }

    [Fact]
    public void ALeaseOfAProcessOfThisMachineThatIsGoneIsTakenAtOnceButALiveOneIsNot()
    {
        using var registry = new PostgresRegistry(_database.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        using var gone = Process.Start(new ProcessStartInfo("/bin/true"))!;
        gone.WaitForExit();
        var dead = new LeaseHolder("dead", Environment.MachineName, gone.Id);
        var alive = new LeaseHolder("alive", Environment.MachineName, Environment.ProcessId);
        var me = LeaseHolder.ThisProcess();

        WithWriter(registry, w => PipelineLeases.Acquire(w, "a", dead, now, TimeSpan.FromMinutes(5)));
        WithWriter(registry, w => PipelineLeases.Acquire(w, "b", alive, now, TimeSpan.FromMinutes(5)));
        WithWriter(registry, w => PipelineLeases.Acquire(w, "c", alive with { Id = "expired" }, now.AddMinutes(-10), TimeSpan.FromMinutes(5)));

        WithWriter(registry, w => PipelineLeases.Acquire(w, "a", me, now, TimeSpan.FromMinutes(5)));
        Assert.Throws<PipelineLeasedException>(() => WithWriter(registry, w => PipelineLeases.Acquire(w, "b", me, now, TimeSpan.FromMinutes(5))));
        WithWriter(registry, w => PipelineLeases.Acquire(w, "c", me, now, TimeSpan.FromMinutes(5)));
        WithWriter(registry, w => Assert.Equal((me.Id, me.Id, "alive"), (w.Lease("a")!.Owner, w.Lease("c")!.Owner, w.Lease("b")!.Owner)));
    }

    private static void WithWriter(Registry.Registry registry, Action<RegistryWriter> action)
    {
        using var connection = registry.Open();
        using var writer = new RegistryWriter(registry, connection);
        writer.Begin();
        try
        {
            action(writer);
            writer.Commit();
        }
        catch
        {
            writer.Rollback();
            throw;
        }
    }
}
