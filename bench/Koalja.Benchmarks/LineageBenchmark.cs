using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Koalja.Core.Policies;
using Koalja.Router.Api;
using Koalja.Router.Lineage;
using Koalja.Router.Registry;

namespace Koalja.Benchmarks;

/// <summary>
/// Lineage query time on SQLite and (given <c>--postgres URL</c>) PostgreSQL: the value at the end of a 1,000-hop chain,
/// and a value with 10,000 ancestors (one execution over 10,000 dropped values), as the recursive SQL alone and as the
/// API's whole answer (query, model, JSON). Also, per engine, how fast values are recorded the way linecount records
/// them (drop, uniq, count: values, snapshots, inputs, executions, queue entries) and the registry's size per 100,000.
/// </summary>
internal static class LineageBenchmark
{
    public static int Run(string[] args)
    {
        var runs = Array.IndexOf(args, "--runs") is var r and >= 0 ? int.Parse(args[r + 1], CultureInfo.InvariantCulture) : 30;
        var postgres = Array.IndexOf(args, "--postgres") is var p and >= 0 ? args[p + 1] : null;
        var dir = Directory.CreateTempSubdirectory("koalja-lineage-bench-").FullName;
        try
        {
            Console.WriteLine($"Lineage (median and p95 of {runs} runs, after 3 warm-up runs) and recording");
            Console.WriteLine();
            Console.WriteLine("| engine | graph | values | query (SQL) median | p95 | API answer (query + JSON) median | p95 |");
            Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
            var sizes = new List<string>();
            sizes.Add(Measure("SQLite", new SqliteRegistry(Path.Combine(dir, "registry.db")), runs, registry =>
            {
                using var connection = registry.Open();
                Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;");
                return new FileInfo(((SqliteRegistry)registry).Path).Length;
            }));
            if (postgres is not null)
            {
                using var database = new Testing.PostgresDatabase(postgres);
                using var registry = new PostgresRegistry(database.ConnectionString);
                sizes.Add(Measure("PostgreSQL", registry, runs, registry =>
                {
                    using var connection = registry.Open();
                    Execute(connection, "VACUUM ANALYZE");
                    using var size = connection.CreateCommand();
                    size.CommandText = "SELECT pg_database_size(current_database())";
                    return Convert.ToInt64(size.ExecuteScalar(), CultureInfo.InvariantCulture);
                }));
            }

            Console.WriteLine();
            foreach (var line in sizes)
            {
                Console.WriteLine(line);
            }

            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The lineage rows of one engine, and its line on recording speed and size.</summary>
    private static string Measure(string engine, Registry registry, int runs, Func<Registry, long> bytesOf)
    {
        var chainEnd = Build(registry, writer => Chain(writer, 1000));
        var fanInEnd = Build(registry, writer => FanIn(writer, 10_000));
        Report(engine, "end of a 1,000-hop chain", registry, chainEnd, runs);
        Report(engine, "10,000 ancestors (fan-in)", registry, fanInEnd, runs);

        var before = bytesOf(registry);
        var timer = Stopwatch.StartNew();
        var values = Build(registry, writer => Linecount(writer, 100_000));
        var elapsed = timer.Elapsed;
        var bytes = bytesOf(registry) - before;
        var batched = Stopwatch.StartNew();
        var batchedValues = 0;
        for (var i = 0; i < 100; i++)
        {
            batchedValues += Build(registry, writer => Linecount(writer, 300)); // 100 commits of 300 values: the router's group commit
        }

        return $"{engine}: {bytes / 1048576.0 / values * 100_000:0.0} MiB per 100,000 values (linecount-shaped, {bytes / (double)values:0} bytes per value with its snapshot, inputs, "
            + $"execution and queue entry); recording {values / elapsed.TotalSeconds:N0} values/s in one transaction, {batchedValues / batched.Elapsed.TotalSeconds:N0} values/s in transactions of 300";
    }

    private static void Execute(System.Data.Common.DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static void Report(string engine, string name, Registry registry, string root, int runs)
    {
        using var connection = registry.Open();
        var query = new LineageQuery(connection);
        var count = 0;
        var sql = Measure(runs, () => count = query.Run(root, LineageDirection.Up, null, null)!.Values.Count);
        var api = Measure(runs, () => JsonSerializer.SerializeToUtf8Bytes(LineageDto.From(query.Run(root, LineageDirection.Up, null, null)!), ApiJsonContext.Default.LineageDto));
        Console.WriteLine($"| {engine} | {name} | {count:N0} | {sql.Median:0.0} ms | {sql.P95:0.0} ms | {api.Median:0.0} ms | {api.P95:0.0} ms |");
    }

    private static (double Median, double P95) Measure(int runs, Action action)
    {
        for (var i = 0; i < 3; i++)
        {
            action();
        }

        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var timer = Stopwatch.StartNew();
            action();
            times.Add(timer.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return (times[times.Count / 2], times[(int)Math.Ceiling(times.Count * 0.95) - 1]);
    }

    private static T Build<T>(Registry registry, Func<Recorder, T> fill)
    {
        using var connection = registry.Open();
        using var writer = new RegistryWriter(registry, connection);
        writer.Begin();
        var result = fill(new Recorder(writer));
        writer.Commit();
        return result;
    }

    /// <summary>drop → step1 → … → stepN, one value each.</summary>
    private static string Chain(Recorder r, int hops)
    {
        var previous = r.Drop("p", "drop");
        for (var i = 1; i <= hops; i++)
        {
            previous = r.Execute("p", $"step{i}", [previous])[0];
        }

        return previous;
    }

    private static string FanIn(Recorder r, int ancestors)
    {
        var drops = Enumerable.Range(0, ancestors).Select(_ => r.Drop("p", "drop")).ToList();
        return r.Execute("p", "merge", drops)[0];
    }

    /// <summary>Drop, uniq, count per file, until <paramref name="values"/> values exist; returns how many.</summary>
    private static int Linecount(Recorder r, int values)
    {
        var made = 0;
        while (made < values)
        {
            var drop = r.Drop("linecount", "fileDropInput");
            var uniq = r.Execute("linecount", "removeDuplicates", [drop])[0];
            r.Execute("linecount", "countLines", [uniq]);
            made += 3;
        }

        return made;
    }

    /// <summary>Writes rows the way the router does: values, link entries, snapshots with inputs, executions.</summary>
    private sealed class Recorder(RegistryWriter writer)
    {
        private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
        private long _n;

        public string Drop(string pipeline, string task)
        {
            var id = Guid.CreateVersion7().ToString("N");
            writer.InsertValue(new ValueRecord(id, pipeline, task, "out", 0, Sha(id), 1234, "text/plain", Now(), "rev", "code-" + task, null, null, "file.txt"));
            return id;
        }

        public List<string> Execute(string pipeline, string task, IReadOnlyList<string> inputs)
        {
            var snapshotId = Guid.CreateVersion7().ToString("N");
            var arrivals = inputs.Select((v, i) => new ArrivedValue(v, "in", _n + i)).ToArray();
            foreach (var value in arrivals)
            {
                writer.InsertLinkEntry(pipeline, task, "in", value.ValueId, "link", value.Arrival, Now());
                writer.SetLinkEntryState(pipeline, task, value, LinkEntryState.Consumed, Now());
            }

            writer.InsertSnapshot(pipeline, task, "code-" + task, new Snapshot(snapshotId, _n, [new SnapshotInput("in", arrivals)]), Now());
            var executionId = Guid.CreateVersion7().ToString("N");
            writer.InsertExecution(new ExecutionRecord(executionId, snapshotId, 1, "local-0", Now(), Now(), ExecutionStatus.Succeeded, 0, null, null, Sha(executionId)));
            writer.FinishSnapshot(snapshotId, SnapshotStatus.Succeeded, Now());
            var output = Guid.CreateVersion7().ToString("N");
            writer.InsertValue(new ValueRecord(output, pipeline, task, "out", 0, Sha(output), 2, "text/plain", Now(), "rev", "code-" + task, snapshotId, executionId, null));
            return [output];
        }

        private DateTimeOffset Now() => _start.AddTicks(Interlocked.Increment(ref _n));

        private static string Sha(string id) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)));
    }
}
