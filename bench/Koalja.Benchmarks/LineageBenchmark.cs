using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Koalja.Router.Api;
using Koalja.Router.Lineage;
using Koalja.Router.Registry;

namespace Koalja.Benchmarks;

/// <summary>
/// Lineage query time on SQLite and (given <c>--postgres URL</c>) PostgreSQL: the value at the end of a 1,000-hop chain,
/// and a value with 10,000 ancestors (one execution over 10,000 dropped values), as the recursive SQL alone and as the
/// API's whole answer (query, model, JSON). Also, per engine, how fast linecount-shaped rows are written (drop, uniq,
/// count: values, snapshots, inputs, executions, queue entries) and the registry's size per 100,000 values. The rows are
/// written by <see cref="Recorder"/> with the router's statements on the registry's connection, batched as the router
/// batches them (its writer is the router's own and not public).
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

    private static void Execute(DbConnection connection, string sql)
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
        using var transaction = connection.BeginTransaction();
        using var recorder = new Recorder(connection, transaction);
        var result = fill(recorder);
        recorder.Flush();
        transaction.Commit();
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

    /// <summary>
    /// Writes the rows the router writes for a drop and for an execution: values, link entries, snapshots with inputs,
    /// executions. The statements are the router's, each prepared once; as in the router's writer, on an engine that
    /// batches (PostgreSQL) the writes whose results nobody reads are held back and sent in one round trip before the
    /// next statement.
    /// </summary>
    private sealed class Recorder(DbConnection connection, DbTransaction transaction) : IDisposable
    {
        private const string InsertValue = """
            INSERT INTO annotated_values (id, pipeline, task, output, output_index, sha256, size, media_type, created_at, revision, code_version, snapshot_id, execution_id, source_name, shadow)
            VALUES (@id, @p, @t, @o, @oi, @sha, @size, @mt, @c, @r, @cv, @s, @e, @sn, 0) ON CONFLICT (id) DO NOTHING RETURNING seq
            """;

        private const string InsertLinkEntry = """
            INSERT INTO link_entries (pipeline, task, input, value_id, link, arrival, state, enqueued_at) VALUES (@p, @t, @i, @v, @l, @a, 'queued', @n)
            ON CONFLICT DO NOTHING
            """;

        private const string ConsumeLinkEntry = """
            UPDATE link_entries SET state = 'consumed', consumed_at = @n
            WHERE pipeline = @p AND task = @t AND input = @i AND value_id = @v AND state <> 'consumed'
            """;

        private const string InsertSnapshot = """
            INSERT INTO snapshots (id, pipeline, task, sequence, code_version, status, created_at, replay_of) VALUES (@id, @p, @t, @s, @c, 'ready', @n, NULL)
            ON CONFLICT (id) DO NOTHING
            """;

        private const string InsertSnapshotInput =
            "INSERT INTO snapshot_inputs (snapshot_id, input, position, value_id, arrived_on, arrival) VALUES (@s, @i, @pos, @v, @a, @ar) ON CONFLICT DO NOTHING";

        private const string InsertExecution = """
            INSERT INTO executions (id, snapshot_id, attempt, worker, started_at, finished_at, status, exit_code, error, stderr_tail, log_sha256, pipeline, task)
            VALUES (@id, @s, 1, 'local-0', @st, @f, 'succeeded', 0, NULL, NULL, @log, @p, @t) ON CONFLICT (id) DO NOTHING
            """;

        private const string FinishSnapshot = "UPDATE snapshots SET status = 'succeeded', finished_at = @n WHERE id = @id AND status = 'ready'";

        private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);
        private readonly List<(string Sql, (string Name, object? Value)[] Parameters)> _deferred = [];
        private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
        private long _n;

        public string Drop(string pipeline, string task)
        {
            var id = Guid.CreateVersion7().ToString("N");
            Scalar(InsertValue, ("@id", id), ("@p", pipeline), ("@t", task), ("@o", "out"), ("@oi", 0), ("@sha", Sha(id)), ("@size", 1234), ("@mt", "text/plain"),
                ("@c", Now()), ("@r", "rev"), ("@cv", "code-" + task), ("@s", null), ("@e", null), ("@sn", "file.txt"));
            return id;
        }

        public List<string> Execute(string pipeline, string task, List<string> inputs)
        {
            var snapshotId = Guid.CreateVersion7().ToString("N");
            var arrival = _n; // the values' arrival numbers are arrival + position
            for (var i = 0; i < inputs.Count; i++)
            {
                Run(InsertLinkEntry, ("@p", pipeline), ("@t", task), ("@i", "in"), ("@v", inputs[i]), ("@l", "link"), ("@a", arrival + i), ("@n", Now()));
                Defer(ConsumeLinkEntry, ("@n", Now()), ("@p", pipeline), ("@t", task), ("@i", "in"), ("@v", inputs[i]));
            }

            Defer(InsertSnapshot, ("@id", snapshotId), ("@p", pipeline), ("@t", task), ("@s", _n), ("@c", "code-" + task), ("@n", Now()));
            for (var i = 0; i < inputs.Count; i++)
            {
                Defer(InsertSnapshotInput, ("@s", snapshotId), ("@i", "in"), ("@pos", i), ("@v", inputs[i]), ("@a", "in"), ("@ar", arrival + i));
            }

            var executionId = Guid.CreateVersion7().ToString("N");
            Defer(InsertExecution, ("@id", executionId), ("@s", snapshotId), ("@st", Now()), ("@f", Now()), ("@log", Sha(executionId)), ("@p", pipeline), ("@t", task));
            Defer(FinishSnapshot, ("@n", Now()), ("@id", snapshotId));
            var output = Guid.CreateVersion7().ToString("N");
            Scalar(InsertValue, ("@id", output), ("@p", pipeline), ("@t", task), ("@o", "out"), ("@oi", 0), ("@sha", Sha(output)), ("@size", 2), ("@mt", "text/plain"),
                ("@c", Now()), ("@r", "rev"), ("@cv", "code-" + task), ("@s", snapshotId), ("@e", executionId), ("@sn", null));
            return [output];
        }

        public void Dispose()
        {
            foreach (var command in _commands.Values)
            {
                command.Dispose();
            }
        }

        /// <summary>Sends the held-back writes, in order, in one batch.</summary>
        public void Flush()
        {
            if (_deferred.Count == 0)
            {
                return;
            }

            using var batch = connection.CreateBatch();
            batch.Transaction = transaction;
            foreach (var (sql, parameters) in _deferred)
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = sql;
                foreach (var (name, value) in parameters)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = name;
                    parameter.Value = ToParameter(value);
                    command.Parameters.Add(parameter);
                }

                batch.BatchCommands.Add(command);
            }

            _deferred.Clear();
            batch.ExecuteNonQuery();
        }

        private void Run(string sql, params (string Name, object? Value)[] parameters)
        {
            Flush();
            Command(sql, parameters).ExecuteNonQuery();
        }

        private void Scalar(string sql, params (string Name, object? Value)[] parameters)
        {
            Flush();
            Command(sql, parameters).ExecuteScalar();
        }

        private void Defer(string sql, params (string Name, object? Value)[] parameters)
        {
            if (!connection.CanCreateBatch)
            {
                Command(sql, parameters).ExecuteNonQuery();
                return;
            }

            _deferred.Add((sql, parameters));
            if (_deferred.Count >= 1000)
            {
                Flush();
            }
        }

        /// <summary>The statement, prepared on first use.</summary>
        private DbCommand Command(string sql, (string Name, object? Value)[] parameters)
        {
            if (!_commands.TryGetValue(sql, out var command))
            {
                command = connection.CreateCommand();
                command.CommandText = sql;
                command.Transaction = transaction;
                foreach (var (name, _) in parameters)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = name;
                    command.Parameters.Add(parameter);
                }

                _commands[sql] = command;
            }

            for (var i = 0; i < parameters.Length; i++)
            {
                command.Parameters[i].Value = ToParameter(parameters[i].Value);
            }

            return command;
        }

        /// <summary>Times are stored as UTC ISO 8601 text, as the router stores them; null is NULL.</summary>
        private static object ToParameter(object? value) => value switch
        {
            null => DBNull.Value,
            DateTimeOffset time => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            var v => v,
        };

        private DateTimeOffset Now() => _start.AddTicks(Interlocked.Increment(ref _n));

        private static string Sha(string id) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)));
    }
}
