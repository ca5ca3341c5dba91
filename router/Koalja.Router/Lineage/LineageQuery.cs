using System.Globalization;
using Koalja.Router.Registry;
using System.Data.Common;

namespace Koalja.Router.Lineage;

/// <summary>
/// Lineage by recursive SQL: one query walks the graph and returns its values with their executions;
/// the input edges of those executions follow by snapshot id, a thousand snapshots per query. Never one
/// query per hop. Depth-limited walks
/// carry the depth; a value reached by paths of several lengths keeps the shortest.
/// </summary>
public sealed class LineageQuery(DbConnection connection)
{
    /// <summary>Most values in one graph; a larger one is cut (and says so).</summary>
    public const int DefaultMaxValues = 100_000;

    /// <summary>Snapshot ids per query when fetching the inputs of a graph's executions.</summary>
    private const int SnapshotBatch = 1000;

    // The walk carries each value's seq (the row id) and snapshot, so that a step looks up only the values it reaches,
    // and the graph's rows are fetched by row id, not again by their text id.
    private const string Up = """
        walk(id, seq, snapshot_id, depth) AS (
            SELECT id, seq, snapshot_id, 0 FROM annotated_values WHERE id = @root AND created_at <= @asOf
            UNION
            SELECT v.id, v.seq, v.snapshot_id, walk.depth + 1
            FROM walk
            JOIN snapshot_inputs si ON si.snapshot_id = walk.snapshot_id
            JOIN annotated_values v ON v.id = si.value_id
            WHERE walk.depth < @depth
        )
        """;

    private const string Down = """
        walk(id, seq, snapshot_id, depth) AS (
            SELECT id, seq, snapshot_id, 0 FROM annotated_values WHERE id = @root AND created_at <= @asOf
            UNION
            SELECT v.id, v.seq, v.snapshot_id, walk.depth + 1
            FROM walk
            JOIN snapshot_inputs si ON si.value_id = walk.id
            JOIN annotated_values v ON v.snapshot_id = si.snapshot_id
            WHERE walk.depth < @depth AND v.shadow = 0 AND v.execution_id IS NOT NULL AND v.created_at <= @asOf
        )
        """;

    /// <summary>The graph, or null when the value does not exist (or did not yet at <paramref name="asOf"/>).</summary>
    public LineageGraph? Run(string root, LineageDirection direction, int? depth, DateTimeOffset? asOf, int maxValues = DefaultMaxValues)
    {
        // nodes: each value once, at its shortest depth, the nearest first, cut at the limit; the wide rows are not sorted
        var walk = "WITH RECURSIVE " + (direction == LineageDirection.Up ? Up : Down)
            + ", nodes(seq, depth) AS (SELECT seq, MIN(depth) FROM walk GROUP BY seq ORDER BY 2, 1 LIMIT @max)";
        var parameters = new (string, object)[]
        {
            ("@root", root),
            ("@depth", depth ?? int.MaxValue),
            ("@asOf", (asOf ?? DateTimeOffset.MaxValue).ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)),
            ("@max", maxValues + 1),
        };

        var values = new List<LineageValue>();
        var executions = new Dictionary<string, LineageExecution>(StringComparer.Ordinal);
        var edges = new List<LineageEdge>();
        using (var command = Command($"""
            {walk}
            SELECT n.depth, {ValueColumns("v")},
                e.attempt, e.worker, e.started_at, e.finished_at, e.status, e.exit_code, e.error, e.log_sha256, s.code_version
            FROM nodes n
            JOIN annotated_values v ON v.seq = n.seq
            LEFT JOIN executions e ON e.id = v.execution_id
            LEFT JOIN snapshots s ON s.id = v.snapshot_id
            """, parameters))
        using (var r = command.ExecuteReader())
        {
            while (r.Read())
            {
                var value = ReadValue(r, 1);
                values.Add(new LineageValue(value, Rows.Int(r, 0)));
                if (value.ExecutionId is not { } executionId || r.IsDBNull(17))
                {
                    continue;
                }

                if (!executions.ContainsKey(executionId))
                {
                    var execution = new ExecutionRecord(executionId, value.SnapshotId!, Rows.Int(r, 17), r.GetString(18), Time(r, 19), Time(r, 20), RegistryStates.ParseExecutionStatus(r.GetString(21)),
                        Rows.IntOrNull(r, 22), Str(r, 23), null, Str(r, 24));
                    executions[executionId] = new LineageExecution(execution, value.Pipeline, value.Task, Str(r, 25) ?? value.CodeVersion ?? "");
                }
            }
        }

        if (values.Count == 0)
        {
            return null;
        }

        values.Sort((a, b) => a.Depth != b.Depth ? a.Depth.CompareTo(b.Depth) : a.Value.Seq.CompareTo(b.Value.Seq));
        var truncated = values.Count > maxValues;
        if (truncated)
        {
            values.RemoveAt(values.Count - 1);
        }

        foreach (var (value, _) in values)
        {
            if (value.ExecutionId is { } executionId && executions.ContainsKey(executionId))
            {
                edges.Add(new LineageEdge("generated", executionId, value.Id, value.Output, value.OutputIndex));
            }
        }

        // The inputs of the graph's executions, by snapshot id in batches (the walk is not repeated). Inputs outside
        // the graph (beyond the depth, or other inputs of a task reached going down) are left out, so every edge
        // joins two nodes.
        var known = values.Select(v => v.Value.Id).ToHashSet(StringComparer.Ordinal);
        var executionOf = executions.Values.ToDictionary(e => e.Execution.SnapshotId, e => e.Execution.Id, StringComparer.Ordinal);
        foreach (var batch in executionOf.Keys.Chunk(SnapshotBatch))
        {
            var names = batch.Select((_, i) => $"@s{i}").ToArray();
            using var command = Command($"SELECT snapshot_id, input, position, value_id FROM snapshot_inputs WHERE snapshot_id IN ({string.Join(", ", names)})",
                batch.Select((id, i) => (names[i], (object)id)).ToArray());
            using var r = command.ExecuteReader();
            while (r.Read())
            {
                var input = r.GetString(3);
                if (known.Contains(input))
                {
                    edges.Add(new LineageEdge("used", input, executionOf[r.GetString(0)], r.GetString(1), Rows.Int(r, 2)));
                }
            }
        }

        return new LineageGraph(root, direction, depth, asOf, values, executions.Values.ToList(), edges, truncated);
    }

    /// <summary>
    /// A page of a pipeline's executions (in the order they finished, after the execution <paramref name="after"/>),
    /// each with its input values and the values it produced: three queries per page.
    /// </summary>
    public List<LineageRun> Runs(string pipeline, string? after, int limit)
    {
        const string Page = """
            page AS (
                SELECT e.id, e.snapshot_id, e.finished_at FROM executions e JOIN snapshots s ON s.id = e.snapshot_id
                WHERE s.pipeline = @p AND (CAST(@after AS TEXT) IS NULL OR (e.finished_at, e.id) > (SELECT a.finished_at, a.id FROM executions a WHERE a.id = @after))
                ORDER BY e.finished_at, e.id LIMIT @limit
            )
            """;
        var parameters = new (string, object)[] { ("@p", pipeline), ("@after", (object?)after ?? DBNull.Value), ("@limit", limit) };
        var runs = new List<(ExecutionRecord Execution, string Task, string CodeVersion)>();
        using (var command = Command($"""
            WITH {Page}
            SELECT e.id, e.snapshot_id, e.attempt, e.worker, e.started_at, e.finished_at, e.status, e.exit_code, e.error, e.stderr_tail, e.log_sha256, s.task, s.code_version
            FROM page JOIN executions e ON e.id = page.id JOIN snapshots s ON s.id = e.snapshot_id
            ORDER BY e.finished_at, e.id
            """, parameters))
        using (var r = command.ExecuteReader())
        {
            while (r.Read())
            {
                runs.Add((new ExecutionRecord(r.GetString(0), r.GetString(1), Rows.Int(r, 2), r.GetString(3), Time(r, 4), Time(r, 5), RegistryStates.ParseExecutionStatus(r.GetString(6)),
                    Rows.IntOrNull(r, 7), Str(r, 8), Str(r, 9), Str(r, 10)), r.GetString(11), r.GetString(12)));
            }
        }

        var inputs = new Dictionary<string, List<(string, int, ValueRecord)>>(StringComparer.Ordinal);
        using (var command = Command($"""
            WITH {Page}
            SELECT si.snapshot_id, si.input, si.position, {ValueColumns("v")}
            FROM (SELECT DISTINCT snapshot_id FROM page) p JOIN snapshot_inputs si ON si.snapshot_id = p.snapshot_id JOIN annotated_values v ON v.id = si.value_id
            ORDER BY si.snapshot_id, si.input, si.position
            """, parameters))
        using (var r = command.ExecuteReader())
        {
            while (r.Read())
            {
                var key = r.GetString(0);
                if (!inputs.TryGetValue(key, out var list))
                {
                    inputs[key] = list = [];
                }

                list.Add((r.GetString(1), Rows.Int(r, 2), ReadValue(r, 3)));
            }
        }

        var outputs = new Dictionary<string, List<ValueRecord>>(StringComparer.Ordinal);
        using (var command = Command($"""
            WITH {Page}
            SELECT {ValueColumns("v")} FROM page JOIN annotated_values v ON v.execution_id = page.id ORDER BY v.output, v.output_index
            """, parameters))
        using (var r = command.ExecuteReader())
        {
            while (r.Read())
            {
                var value = ReadValue(r, 0);
                if (!outputs.TryGetValue(value.ExecutionId!, out var list))
                {
                    outputs[value.ExecutionId!] = list = [];
                }

                list.Add(value);
            }
        }

        return runs.Select(run => new LineageRun(run.Execution, pipeline, run.Task, run.CodeVersion,
            inputs.GetValueOrDefault(run.Execution.SnapshotId) ?? [], outputs.GetValueOrDefault(run.Execution.Id) ?? [])).ToList();
    }

    private static string ValueColumns(string alias) => Rows.ValueColumns(alias);

    private static ValueRecord ReadValue(DbDataReader r, int o) => Rows.Value(r, o);

    private DbCommand Command(string sql, (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            Rows.Add(command, name, value);
        }

        return command;
    }

    private static string? Str(DbDataReader r, int i) => Rows.Str(r, i);

    private static DateTimeOffset Time(DbDataReader r, int i) => Rows.Time(r, i);
}
