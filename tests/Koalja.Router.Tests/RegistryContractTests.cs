using Koalja.Core.Policies;
using Koalja.Router.Lineage;
using Koalja.Router.Registry;

namespace Koalja.Router.Tests;

/// <summary>What every registry engine must do the same way; run against SQLite and PostgreSQL.</summary>
public abstract class RegistryContractTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private protected abstract Registry.Registry Registry { get; }

    /// <summary>Opens the same registry again (a second process, or a restart).</summary>
    private protected abstract Registry.Registry Reopen();

    [Fact]
    public void MigrationsAreAppliedOnceAndRecorded()
    {
        Assert.Equal(Migrations.All.Max(m => m.Version), Registry.SchemaVersion);
        Assert.Equal(Registry.SchemaVersion, Reopen().SchemaVersion);
    }

    [Fact]
    public void ARegistryFromANewerKoaljaIsRefusedWithAClearMessage()
    {
        Execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'now')");

        var error = Assert.Throws<InvalidOperationException>(Reopen);
        Assert.Contains("schema version 999, newer than this Koalja knows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesAreRecordedOnceInOrderWithLargeSizes()
    {
        Write(w =>
        {
            var a = w.InsertValue(Value("a", size: 5_000_000_000));
            Assert.Null(w.InsertValue(Value("a")));
            var b = w.InsertValue(Value("b", task: "other"));
            var c = w.InsertValue(Value("c", shadow: true));
            Assert.True(a < b && b < c, $"{a} < {b} < {c}"); // in the order recorded (a refused insert may use up a number)
        });

        using var connection = Registry.Open();
        var reader = new RegistryReader(connection);
        Assert.Equal(5_000_000_000, reader.Value("a")!.Size);
        Assert.Equal(["a", "b"], reader.Values("p", null, null, 0, 10).Select(v => v.Id));
        Assert.Equal(["a"], reader.Values("p", "drop", "out", 0, 10).Select(v => v.Id));
        Assert.Equal(["b"], reader.Values("p", null, null, reader.Value("a")!.Seq, 10).Select(v => v.Id));
        Assert.Equal(["c"], reader.Values("p", null, null, 0, 10, shadow: true).Select(v => v.Id));
        Assert.Equal(["a", "c"], reader.Values("p", null, null, 0, 10, codeVersion: "code-drop").Select(v => v.Id).Concat(reader.Values("p", null, null, 0, 10, "code-drop", true).Select(v => v.Id)));
    }

    [Fact]
    public void SnapshotsKeepTheirOrderedInputsAttemptsAndQueueEntries()
    {
        var snapshot = new Snapshot("s1", 0, [new SnapshotInput("left", [new ArrivedValue("a", "left", 0), new ArrivedValue("b", "left2", 1)]), new SnapshotInput("right", [new ArrivedValue("c", "right", 2)])]);
        Write(w =>
        {
            foreach (var (id, input, arrival) in new[] { ("a", "left", 0L), ("b", "left2", 1L), ("c", "right", 2L), ("d", "right", 3L) })
            {
                w.InsertValue(Value(id));
                Assert.True(w.InsertLinkEntry("p", "join", input, id, "l-" + input, arrival, T0));
            }

            Assert.False(w.InsertLinkEntry("p", "join", "left", "a", "l-left", 0, T0));
            w.SetLinkEntryState("p", "join", new ArrivedValue("a", "left", 0), LinkEntryState.Taken, T0);
            w.SetLinkEntryState("p", "join", new ArrivedValue("b", "left2", 1), LinkEntryState.Consumed, T0);
            w.InsertSnapshot("p", "join", "code-1", snapshot, T0);
            w.RecordAttempt("s1", failed: true);
            w.RecordAttempt("s1", failed: false);
        });

        using var connection = Registry.Open();
        var reader = new RegistryReader(connection);
        var pending = Assert.Single(reader.Outstanding("p", "join", ["left", "right"]));
        Assert.Equal(1, pending.Failures);
        Assert.Equal(snapshot.Inputs.Select(i => (i.Name, string.Join(",", i.Values))), pending.Snapshot.Inputs.Select(i => (i.Name, string.Join(",", i.Values))));
        Assert.Equal(("code-1", SnapshotStatus.Ready, 2), reader.Snapshot("s1"));
        Assert.Equal(["c", "d"], reader.QueuedEntries("p", "join").Select(e => e.ValueId));
        Assert.Equal((4L, 1L), (reader.NextArrival("p", "join"), reader.NextSequence("p", "join")));
        var counts = reader.TaskCounts("p")["join"];
        Assert.Equal((1L, 2L, 1L), (counts.Pending, counts.Queued, counts.FailedAttempts));
        Assert.Equal((2L, 0L, 0L), reader.LinkCounts("p")["l-right"]);
        Assert.Equal((0L, 1L, 0L), reader.LinkCounts("p")["l-left"]);
    }

    [Fact]
    public void IngressKeysAndEventsAreFoundAgain()
    {
        Write(w =>
        {
            w.InsertValue(Value("v1"));
            w.InsertIngressEvent("p", new IngressEventRecord("/shop", "e-1", "order", null, T0, "binary"), "v1", T0);
            w.InsertIngressEvent("p", new IngressEventRecord("/shop", "e-1", "order", null, T0, "structured"), "v2", T0);
            w.InsertIngressKey("p", "drop", "key-1", "v1");
        });

        Write(w =>
        {
            Assert.Equal("v1", w.FindIngressEvent("p", "/shop", "e-1"));
            Assert.Null(w.FindIngressEvent("p", "/other", "e-1"));
            Assert.Equal("v1", w.FindIngressKey("p", "drop", "key-1"));
        });
        using var connection = Registry.Open();
        Assert.Equal(new IngressEventRecord("/shop", "e-1", "order", null, T0, "binary"), new RegistryReader(connection).IngressEvent("v1"));
    }

    [Fact]
    public void LineageWalksUpAndDownWithDepthAndAsOf()
    {
        // drop a → t1 → b → t2 → c, and t2 also used drop d
        Write(w =>
        {
            w.InsertValue(Value("a", at: T0));
            w.InsertValue(Value("d", at: T0));
            Execute(w, "t1", "s1", [("in", "a")], "b", T0.AddMinutes(1));
            Execute(w, "t2", "s2", [("in", "b"), ("extra", "d")], "c", T0.AddMinutes(2));
        });

        using var connection = Registry.Open();
        var query = new LineageQuery(connection);
        var up = query.Run("c", LineageDirection.Up, null, null)!;
        Assert.Equal(["c", "d", "b", "a"], up.Values.Select(v => v.Value.Id)); // by depth, then as recorded
        Assert.Equal(2, up.Executions.Count);
        Assert.Contains(up.Edges, e => e is { Kind: "used", From: "d", Name: "extra" });
        Assert.Equal(["c", "d", "b"], query.Run("c", LineageDirection.Up, 1, null)!.Values.Select(v => v.Value.Id));
        Assert.Equal(["a", "b", "c"], query.Run("a", LineageDirection.Down, null, null)!.Values.Select(v => v.Value.Id));
        Assert.Equal(["a", "b"], query.Run("a", LineageDirection.Down, null, T0.AddMinutes(1.5))!.Values.Select(v => v.Value.Id));
        Assert.Null(query.Run("c", LineageDirection.Up, null, T0));
        var runs = query.Runs("p", null, 1);
        Assert.Equal("t1", Assert.Single(runs).Task);
        Assert.Equal("t2", Assert.Single(query.Runs("p", runs[0].Execution.Id, 10)).Task);
    }

    [Fact]
    public void ATasksExecutionsAreNewestFirstInPagesAndOnesFromBeforeTheirColumnsAreFound()
    {
        Write(w =>
        {
            w.InsertValue(Value("a", at: T0));
            Execute(w, "t1", "s1", [("in", "a")], "b", T0.AddMinutes(1));
            Execute(w, "t1", "s2", [("in", "a")], "c", T0.AddMinutes(2));
            Execute(w, "t1", "s3", [("in", "a")], "d", T0.AddMinutes(3));
            Execute(w, "t2", "s4", [("in", "b")], "e", T0.AddMinutes(4));
        });

        List<string> Page(string? before, int limit)
        {
            using var connection = Registry.Open();
            return [.. new RegistryReader(connection).Executions("p", "t1", before, limit).Select(e => e.Execution.Id)];
        }

        Assert.Equal(["e-s3", "e-s2"], Page(null, 2));
        Write(w =>
        {
            w.InsertValue(Value("abcd0001"));
            w.InsertValue(Value("abcd0002"));
        });
        using (var ids = Registry.Open())
        {
            Assert.Equal([("value", "abcd0001"), ("value", "abcd0002")], new RegistryReader(ids).IdsStartingWith("abcd", 5));
            Assert.Equal([("value", "abcd0002")], new RegistryReader(ids).IdsStartingWith("abcd0002", 5));
            Assert.Equal([("execution", "e-s1"), ("execution", "e-s2")], new RegistryReader(ids).IdsStartingWith("e-s", 2));
        }

        Assert.Equal(["e-s1"], Page("e-s2", 2));
        Assert.Empty(Page("unknown", 2));

        // A registry from before executions named their task: the migration fills the columns from the snapshots.
        Execute("DROP INDEX ix_executions_task");
        Execute("DROP INDEX ix_executions_finished");
        Execute("DROP INDEX ix_link_entries_value");
        Execute("ALTER TABLE executions DROP COLUMN pipeline");
        Execute("ALTER TABLE executions DROP COLUMN task");
        Execute("DELETE FROM schema_migrations WHERE version IN (5, 8)"); // the index of 8 is on the column 5 adds
        Assert.Equal(Migrations.All.Max(m => m.Version), Reopen().SchemaVersion);
        Assert.Equal(["e-s3", "e-s2", "e-s1"], Page(null, 10));
        using var again = Registry.Open();
        var info = new RegistryReader(again).ExecutionInfo("e-s4")!;
        Assert.Equal(("p", "t2", "code-t2"), (info.Pipeline, info.Task, info.CodeVersion));
        Assert.Equal(["e"], new RegistryReader(again).ExecutionOutputs("e-s4").Select(v => v.Id));
    }

    private static ValueRecord Value(string id, string task = "drop", long size = 10, bool shadow = false, DateTimeOffset? at = null) =>
        new(id, "p", task, "out", 0, new string('a', 64), size, "text/plain", at ?? T0, "rev", "code-" + task, null, null, null, Shadow: shadow);

    private static void Execute(RegistryWriter w, string task, string snapshot, (string Input, string Value)[] inputs, string output, DateTimeOffset at)
    {
        w.InsertSnapshot("p", task, "code-" + task, new Snapshot(snapshot, 0, inputs.Select((i, n) => new SnapshotInput(i.Input, [new ArrivedValue(i.Value, i.Input, n)])).ToArray()), at);
        w.InsertExecution(new ExecutionRecord("e-" + snapshot, snapshot, 1, "w", at, at, ExecutionStatus.Succeeded, 0, null, null, null), "p", task);
        w.FinishSnapshot(snapshot, SnapshotStatus.Succeeded, at);
        w.InsertValue(new ValueRecord(output, "p", task, "out", 0, new string('b', 64), 1, "text/plain", at, "rev", "code-" + task, snapshot, "e-" + snapshot, null));
    }

    private void Write(Action<RegistryWriter> write)
    {
        using var connection = Registry.Open();
        using var writer = new RegistryWriter(Registry, connection);
        writer.Begin();
        write(writer);
        writer.Commit();
    }

    private void Execute(string sql)
    {
        using var connection = Registry.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

public sealed class SqliteRegistryContractTests : RegistryContractTests, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-registry-").FullName;
    private SqliteRegistry? _registry;

    private protected override Registry.Registry Registry => _registry ??= new SqliteRegistry(Path.Combine(_dir, "registry.db"));

    private protected override Registry.Registry Reopen() => new SqliteRegistry(Path.Combine(_dir, "registry.db"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

public sealed class PostgresRegistryContractTests : RegistryContractTests, IDisposable
{
    private readonly Testing.PostgresDatabase _database = new(Testing.TestServers.Postgres);
    private readonly List<PostgresRegistry> _opened = [];

    private protected override Registry.Registry Registry => _opened.Count > 0 ? _opened[0] : Reopen();

    private protected override Registry.Registry Reopen()
    {
        var registry = new PostgresRegistry(_database.ConnectionString);
        _opened.Add(registry);
        return registry;
    }

    public void Dispose()
    {
        foreach (var registry in _opened)
        {
            registry.Dispose();
        }

        _database.Dispose();
    }
}
