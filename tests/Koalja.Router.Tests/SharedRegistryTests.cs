using System.Diagnostics;
using System.Text;
using Koalja.Router.Registry;
using Koalja.Router.Runtime;
using Koalja.Storage;
using Koalja.Tasks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Koalja.Router.Tests;

/// <summary>
/// Koalja on a PostgreSQL registry: the whole runtime, and several processes sharing the registry. The lease tests run
/// routers (each as another process would) on fake clocks: a lease expires, and is renewed, only when a test moves time.
/// </summary>
public sealed class SharedRegistryTests : IDisposable
{
    private static readonly DateTimeOffset Morning = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(30);

    private readonly Testing.PostgresDatabase _database = new(Testing.TestServers.Postgres);
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-leases-").FullName;
    private readonly FakeTimeProvider _time = new(Morning);

    public void Dispose()
    {
        _database.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

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
        var first = await StartRouterAsync(_time);
        await first.DropAndCountAsync("before\n");

        var refused = await Assert.ThrowsAsync<PipelineLeasedException>(() => StartRouterAsync(_time));
        Assert.Contains($"Pipeline 'linecount' is run by another Koalja process (pid {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);

        await first.DisposeAsync();
        await using var second = await StartRouterAsync(_time);
        await second.DropAndCountAsync("after\n");
        Assert.Equal(2, CountLinesValues());
    }

    [Fact]
    public async Task AProcessWhoseLeaseWasTakenStopsRoutingThePipeline()
    {
        await using var router = await StartRouterAsync(_time);
        await router.DropAsync("mine\n");

        // another process takes the pipeline over (as if this one had been paused past its lease)
        using (var connection = new Npgsql.NpgsqlConnection(_database.ConnectionString))
        {
            connection.Open();
            using var steal = new Npgsql.NpgsqlCommand("UPDATE pipeline_leases SET owner = 'thief', host = 'elsewhere', expires_at = '9999-12-31T00:00:00.0000000+00:00'", connection);
            Assert.Equal(1, steal.ExecuteNonQuery());
        }

        _time.Advance(LeaseTtl / 3); // the lease is renewed every third of its time to live: the renewal finds it taken

        var refused = await Assert.ThrowsAsync<PipelineNotOwnedException>(() => router.DropAsync("not mine\n"));
        Assert.Contains("is now run by another Koalja process", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALeaseNotRenewedInTimeIsTakenOverAndItsHolderStopsRoutingOnWaking()
    {
        var pausedClock = new FakeTimeProvider(Morning);
        await using var paused = await StartRouterAsync(pausedClock);
        await Assert.ThrowsAsync<PipelineLeasedException>(() => StartRouterAsync(new FakeTimeProvider(Morning + LeaseTtl)));

        await using var taker = await StartRouterAsync(new FakeTimeProvider(Morning + LeaseTtl + TimeSpan.FromSeconds(1)));
        pausedClock.Advance(LeaseTtl / 3);

        await Assert.ThrowsAsync<PipelineNotOwnedException>(() => paused.DropAsync("late\n"));
        await taker.DropAndCountAsync("on time\n");
        Assert.Equal(1, CountLinesValues());
    }

    [Fact]
    public async Task ADropToAPipelineThisProcessGaveUpIsAnswered503()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"), registry: _database.Url);
        server.Server.Router.Pipelines["linecount"].Lost = true; // what the lease keeper does when another process took the lease

        using var response = await server.Http.PostAsync("pipelines/linecount/fileDropInput", new StringContent("not mine\n"));

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("is now run by another Koalja process", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void ALeaseOfAProcessOfThisMachineThatIsGoneIsTakenAtOnceButALiveOneIsNot()
    {
        using var registry = new PostgresRegistry(_database.ConnectionString);
        var now = _time.GetUtcNow();
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

    [Fact]
    public void ALeaseOfAKilledProcessItsParentHasNotReapedYetIsTakenAtOnce()
    {
        // sh execs a sleep that never waits for the child sh left behind: once that child exits it stays a zombie
        using var parent = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "sleep 0.05 & echo $!; exec sleep 30"]) { RedirectStandardOutput = true })!;
        try
        {
            var zombie = int.Parse(parent.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
            while (!File.ReadAllText($"/proc/{zombie}/stat").Contains(") Z ", StringComparison.Ordinal))
            {
                Thread.Sleep(10);
            }

            using var registry = new PostgresRegistry(_database.ConnectionString);
            var now = _time.GetUtcNow();
            WithWriter(registry, w => PipelineLeases.Acquire(w, "z", new LeaseHolder("killed", Environment.MachineName, zombie), now, TimeSpan.FromMinutes(5)));

            var me = LeaseHolder.ThisProcess();
            WithWriter(registry, w => PipelineLeases.Acquire(w, "z", me, now, TimeSpan.FromMinutes(5)));
            WithWriter(registry, w => Assert.Equal(me.Id, w.Lease("z")!.Owner));
        }
        finally
        {
            parent.Kill();
            parent.WaitForExit();
        }
    }

    /// <summary>A router on <paramref name="time"/> over the shared registry, as one Koalja process runs it (without the HTTP API).</summary>
    private async Task<LeaseRouter> StartRouterAsync(TimeProvider time)
    {
        var registry = new PostgresRegistry(_database.ConnectionString);
        var store = new LocalArtifactStore(Path.Combine(_dir, "blobs"));
        var tasks = new TaskRuntime(store, new TaskRuntimeOptions { WorkRoot = Path.Combine(_dir, "work", Guid.NewGuid().ToString("N")) }, time);
        var router = new PipelineRouter(registry, tasks, new RuntimeOptions { LeaseTtl = LeaseTtl, RetryDelay = TimeSpan.FromMilliseconds(50) }, time,
            NullLogger<PipelineRouter>.Instance);
        var host = new LeaseRouter(router, registry, tasks, store);
        try
        {
            router.Start([KoaljaTestServer.Example("linecount")]);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private long CountLinesValues()
    {
        using var connection = new Npgsql.NpgsqlConnection(_database.ConnectionString);
        connection.Open();
        using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM annotated_values WHERE pipeline = 'linecount' AND task = 'countLines'", connection);
        return (long)count.ExecuteScalar()!;
    }

    private sealed class LeaseRouter(PipelineRouter router, PostgresRegistry registry, TaskRuntime tasks, IArtifactStore store) : IAsyncDisposable
    {
        public async Task<ValueRecord> DropAsync(string content)
        {
            var artifact = await store.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(content)));
            return (await router.IngestAsync("linecount", "fileDropInput", "droppedFile", artifact, "text/plain", null, null)).Value;
        }

        /// <summary>Drops, and waits until the pipeline's last task has made its value of it.</summary>
        public async Task DropAndCountAsync(string content)
        {
            var counted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void Recorded(ValueRecord value)
            {
                if (value.Task == "countLines")
                {
                    counted.TrySetResult();
                }
            }

            router.ValueRecorded += Recorded;
            try
            {
                await DropAsync(content);
                await counted.Task.WaitAsync(TimeSpan.FromSeconds(60));
            }
            finally
            {
                router.ValueRecorded -= Recorded;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await router.DisposeAsync();
            registry.Dispose();
            tasks.Dispose();
        }
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
