using Koalja.Router.Hosting;
using Koalja.Router.Registry;
using Koalja.Storage;

namespace Koalja.Router.Tests;

/// <summary>Pruning and removing a pipeline on both registries: the same rows and content go, lineage of what stays is whole.</summary>
public sealed class RetentionTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("koalja-retention-").FullName;
    private Testing.PostgresDatabase? _database;

    public void Dispose()
    {
        _database?.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public async Task PruneKeepsLineageAndPendingWorkAndRemoveDeletesEverything(string engine)
    {
        string? registryUrl = null;
        if (engine == "postgresql")
        {
            _database = new Testing.PostgresDatabase(Testing.TestServers.Postgres);
            registryUrl = _database.Url;
        }

        await using (var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"), data: _data, registry: registryUrl))
        {
            foreach (var text in new[] { "a\n", "b\nb\nc\n", "x\ny\nz\n" })
            {
                await server.DropAsync("linecount", "fileDropInput", text);
                await server.WaitIdleAsync("linecount");
            }
        }

        var registry = RegistrySettings.Open(registryUrl, _ => null, Path.Combine(_data, "registry.db"));
        var store = new LocalArtifactStore(Path.Combine(_data, "blobs"));
        try
        {
            // the server stopped and gave its leases back
            var retention = new Retention(registry, store);
            var keepNewest = new RetentionRule(null, 1);
            var dry = await retention.PruneAsync(keepNewest, dryRun: true);
            Assert.Equal((6L, 4L, 4L, 3L), (dry.Values, dry.Snapshots, dry.Executions, dry.KeptValues));
            var done = await retention.PruneAsync(keepNewest, dryRun: false);
            Assert.Equal(dry, done);
            Assert.Equal(0, (await retention.PruneAsync(keepNewest, dryRun: false)).Values);
            Assert.True(await store.ExistsAsync(Sha("x\ny\nz\n")));
            Assert.False(await store.ExistsAsync(Sha("a\n")));
            Assert.False(await store.ExistsAsync(Sha("b\nc\n")));

            // everything made before tomorrow goes: nothing is pending
            var all = await retention.PruneAsync(new RetentionRule(DateTimeOffset.UtcNow.AddDays(1), null), dryRun: false);
            Assert.Equal((3L, 2L, 2L, 0L), (all.Values, all.Snapshots, all.Executions, all.KeptValues));
            Assert.False(await store.ExistsAsync(Sha("x\ny\nz\n")));

            var removed = await retention.RemovePipelineAsync("linecount", dryRun: false);
            Assert.Equal(0, removed.Values);
            Assert.False(retention.Knows("linecount"));
        }
        finally
        {
            (registry as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public async Task KeepLastCountsPublishedValuesNotAReplaysShadows()
    {
        string newest;
        await using (var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"), data: _data))
        {
            await server.DropAsync("linecount", "fileDropInput", "a\n");
            await server.DropAsync("linecount", "fileDropInput", "b\nc\n");
            await server.WaitIdleAsync("linecount");
            newest = (await server.ValuesAsync("linecount", "countLines"))[^1].GetProperty("id").GetString()!;
            var replay = "#!/bin/sh\necho replayed > \"$KOALJA_OUTPUT_OUTPUTFILE\"\n"u8.ToArray();
            var (status, _) = await server.PutCodeAsync("linecount", "countLines", replay, "?replay=true&activate=false");
            Assert.Equal(System.Net.HttpStatusCode.Created, status);
            await server.WaitIdleAsync("linecount");
        }

        var registry = RegistrySettings.Open(null, _ => null, Path.Combine(_data, "registry.db"));
        try
        {
            await new Retention(registry, new LocalArtifactStore(Path.Combine(_data, "blobs"))).PruneAsync(new RetentionRule(null, 1), dryRun: false);
            using var connection = registry.Open();
            var kept = new RegistryReader(connection).Values("linecount", "countLines", null, 0, 10);
            Assert.Equal(newest, Assert.Single(kept).Id);
        }
        finally
        {
            (registry as IDisposable)?.Dispose();
        }
    }

    private static string Sha(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}
