using System.Globalization;
using Koalja.Core.Policies;
using System.Data.Common;

namespace Koalja.Router.Registry;

/// <summary>Queries of the registry: for recovery at start-up and for the HTTP API.</summary>
internal sealed class RegistryReader(DbConnection connection, DbTransaction? transaction = null, Action? beforeQuery = null)
{
    private const string ValueColumns = Rows.ValueColumnList;

    private const string CodeColumns = "id, pipeline, task, kind, created_at, base_version, sha256, size, entrypoint, file_name";

    public List<ArrivedValue> QueuedEntries(string pipeline, string task) =>
        Query("SELECT input, value_id, arrival FROM link_entries WHERE pipeline = @p AND task = @t AND state = 'queued' ORDER BY arrival",
            r => new ArrivedValue(r.GetString(1), r.GetString(0), Rows.Long(r, 2)), ("@p", pipeline), ("@t", task));

    /// <summary>Unfinished snapshots of a task, inputs in <paramref name="inputOrder"/>, in sequence order.</summary>
    public List<PendingSnapshot> Outstanding(string pipeline, string task, IReadOnlyList<string> inputOrder)
    {
        var snapshots = Query("SELECT id, sequence, failures FROM snapshots WHERE pipeline = @p AND task = @t AND status = 'ready' ORDER BY sequence",
            r => (Id: r.GetString(0), Sequence: Rows.Long(r, 1), Failures: Rows.Int(r, 2)), ("@p", pipeline), ("@t", task));
        return snapshots.Select(s => new PendingSnapshot(LoadSnapshot(s.Id, s.Sequence, inputOrder), s.Failures)).ToList();
    }

    public Snapshot LoadSnapshot(string id, long sequence, IReadOnlyList<string> inputOrder)
    {
        var rows = Query("SELECT input, position, value_id, arrived_on, arrival FROM snapshot_inputs WHERE snapshot_id = @s ORDER BY input, position",
            r => (Input: r.GetString(0), Position: Rows.Int(r, 1), Value: new ArrivedValue(r.GetString(2), r.GetString(3), Rows.Long(r, 4))), ("@s", id));
        var inputs = inputOrder
            .Select(name => new SnapshotInput(name, rows.Where(r => r.Input == name).OrderBy(r => r.Position).Select(r => r.Value).ToArray()))
            .ToArray();
        return new Snapshot(id, sequence, inputs);
    }

    public long NextArrival(string pipeline, string task) =>
        Scalar("SELECT COALESCE(MAX(arrival) + 1, 0) FROM link_entries WHERE pipeline = @p AND task = @t", ("@p", pipeline), ("@t", task));

    public long NextSequence(string pipeline, string task) =>
        Scalar("SELECT COALESCE(MAX(sequence) + 1, 0) FROM snapshots WHERE pipeline = @p AND task = @t", ("@p", pipeline), ("@t", task));

    public ValueRecord? Value(string id) =>
        Query($"SELECT {ValueColumns} FROM annotated_values WHERE id = @id", ReadValue, ("@id", id)).FirstOrDefault();

    /// <summary>A page of values in the order they were recorded; shadow values (of replays) only when <paramref name="shadow"/>.</summary>
    /// <summary>A pipeline's values with <c>seq</c> between <paramref name="after"/> and <paramref name="before"/>, oldest first or <paramref name="newestFirst"/>.</summary>
    public List<ValueRecord> Values(string pipeline, string? task, string? output, long after, int limit, string? codeVersion = null, bool shadow = false,
        long before = long.MaxValue, bool newestFirst = false) =>
        Query($"""
            SELECT {ValueColumns} FROM annotated_values
            -- CAST: PostgreSQL must know the type of a parameter that may be NULL
            WHERE pipeline = @p AND (CAST(@t AS TEXT) IS NULL OR task = @t) AND (CAST(@o AS TEXT) IS NULL OR output = @o) AND (CAST(@cv AS TEXT) IS NULL OR code_version = @cv)
                AND shadow = @sh AND seq > @after AND seq < @before
            ORDER BY seq {(newestFirst ? "DESC" : "ASC")} LIMIT @limit
            """, ReadValue, ("@p", pipeline), ("@t", task), ("@o", output), ("@cv", codeVersion), ("@sh", shadow ? 1 : 0), ("@after", after), ("@before", before), ("@limit", limit));

    /// <summary>The values one snapshot's execution produced, by output and index.</summary>
    public List<ValueRecord> SnapshotOutputs(string snapshotId) =>
        Query($"SELECT {ValueColumns} FROM annotated_values WHERE snapshot_id = @s ORDER BY output, output_index", ReadValue, ("@s", snapshotId));

    public CodeVersionRecord? CodeVersion(string id) =>
        Query($"SELECT {CodeColumns} FROM code_versions WHERE id = @id", ReadCode, ("@id", id)).FirstOrDefault();

    /// <summary>A task's code versions, oldest first, with how many values each produced.</summary>
    public List<(CodeVersionRecord Code, long Values)> CodeVersions(string pipeline, string task) =>
        Query($"""
            SELECT {CodeColumns}, (SELECT COUNT(*) FROM annotated_values v WHERE v.code_version = c.id AND v.task = c.task AND v.shadow = 0)
            FROM code_versions c WHERE pipeline = @p AND task = @t ORDER BY created_at, id
            """, r => (ReadCode(r), Rows.Long(r, 10)), ("@p", pipeline), ("@t", task));

    /// <summary>Dropped code made current, per task: the version and the spec version it was dropped onto.</summary>
    public Dictionary<string, (string Version, string BaseVersion)> ActiveCode(string pipeline) =>
        Query("SELECT task, code_version, base_version FROM active_code WHERE pipeline = @p", r => (r.GetString(0), r.GetString(1), r.GetString(2)), ("@p", pipeline))
            .ToDictionary(r => r.Item1, r => (r.Item2, r.Item3), StringComparer.Ordinal);

    /// <summary>A snapshot's code version, status and attempts so far.</summary>
    public (string CodeVersion, SnapshotStatus Status, int Attempts)? Snapshot(string id) =>
        Query("SELECT code_version, status, attempts FROM snapshots WHERE id = @id", r => (r.GetString(0), RegistryStates.ParseSnapshotStatus(r.GetString(1)), Rows.Int(r, 2)), ("@id", id))
            .Select(r => ((string, SnapshotStatus, int)?)r).FirstOrDefault();

    /// <summary>The task's most recent succeeded snapshots (not replays): the inputs a replay of new code runs on.</summary>
    public List<(string Id, long Sequence)> RetainedSnapshots(string pipeline, string task, int limit) =>
        Query("""
            SELECT id, sequence FROM snapshots WHERE pipeline = @p AND task = @t AND status = 'succeeded' AND replay_of IS NULL
            ORDER BY sequence DESC LIMIT @limit
            """, r => (r.GetString(0), Rows.Long(r, 1)), ("@p", pipeline), ("@t", task), ("@limit", limit));

    private const string ExecutionColumns = "e.id, e.snapshot_id, e.attempt, e.worker, e.started_at, e.finished_at, e.status, e.exit_code, e.error, e.stderr_tail, e.log_sha256, e.environment";

    public ExecutionRecord? Execution(string id) =>
        Query($"SELECT {ExecutionColumns} FROM executions e WHERE e.id = @id", ReadExecution, ("@id", id)).FirstOrDefault();

    /// <summary>An execution with the pipeline, task and code version of its snapshot.</summary>
    public ExecutionInfo? ExecutionInfo(string id) =>
        Query($"SELECT {ExecutionColumns}, s.pipeline, s.task, s.code_version FROM executions e JOIN snapshots s ON s.id = e.snapshot_id WHERE e.id = @id",
            ReadExecutionInfo, ("@id", id)).FirstOrDefault();

    /// <summary>
    /// A task's executions, the most recently finished first; <paramref name="before"/> (an execution id) continues a
    /// page after that execution. Unknown <paramref name="before"/>: nothing.
    /// </summary>
    public List<ExecutionInfo> Executions(string pipeline, string task, string? before, int limit) =>
        Query($"""
            SELECT {ExecutionColumns}, s.pipeline, s.task, s.code_version FROM executions e JOIN snapshots s ON s.id = e.snapshot_id
            WHERE e.pipeline = @p AND e.task = @t AND s.replay_of IS NULL AND (CAST(@b AS TEXT) IS NULL OR EXISTS (
                SELECT 1 FROM executions c WHERE c.id = @b AND (e.finished_at < c.finished_at OR (e.finished_at = c.finished_at AND e.id < c.id))))
            ORDER BY e.finished_at DESC, e.id DESC LIMIT @limit
            """, ReadExecutionInfo, ("@p", pipeline), ("@t", task), ("@b", before), ("@limit", limit));

    /// <summary>The values an execution produced, by output and index.</summary>
    public List<ValueRecord> ExecutionOutputs(string executionId) =>
        Query($"SELECT {ValueColumns} FROM annotated_values WHERE execution_id = @e ORDER BY output, output_index", ReadValue, ("@e", executionId));

    /// <summary>The values a value was computed from, per snapshot input, in order, with the input each came through.</summary>
    public List<(string Input, string ArrivedOn, string ValueId)> SourceInputs(string snapshotId) =>
        Query("SELECT input, arrived_on, value_id FROM snapshot_inputs WHERE snapshot_id = @s ORDER BY input, position",
            r => (r.GetString(0), r.GetString(1), r.GetString(2)), ("@s", snapshotId));

    /// <summary>The value an ingress CloudEvent became, if it was recorded.</summary>
    public string? IngressEventValue(string pipeline, string source, string id) =>
        Query("SELECT value_id FROM ingress_events WHERE pipeline = @p AND source = @s AND event_id = @i", r => r.GetString(0),
            ("@p", pipeline), ("@s", source), ("@i", id)).FirstOrDefault();

    /// <summary>The CloudEvent a value came in as, if it did.</summary>
    public IngressEventRecord? IngressEvent(string valueId) =>
        Query("SELECT source, event_id, type, subject, event_time, mode FROM ingress_events WHERE value_id = @v",
            r => new IngressEventRecord(r.GetString(0), r.GetString(1), r.GetString(2), Str(r, 3), r.IsDBNull(4) ? null : Time(r, 4), r.GetString(5)), ("@v", valueId))
            .FirstOrDefault();

    public List<DeadLetterRecord> DeadLetters(string pipeline) =>
        Query("SELECT snapshot_id, pipeline, task, reason, stderr_tail, attempts, created_at FROM dead_letters WHERE pipeline = @p ORDER BY created_at",
            r => new DeadLetterRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Str(r, 4), Rows.Int(r, 5), Time(r, 6)), ("@p", pipeline));

    /// <summary>What was done with dead letters (retried or discarded), the most recent first.</summary>
    public List<DeadLetterAction> DeadLetterActions(string pipeline, int limit) =>
        Query("""
            SELECT snapshot_id, pipeline, task, reason, stderr_tail, attempts, created_at, action, code_version, acted_at FROM dead_letter_actions
            WHERE pipeline = @p ORDER BY acted_at DESC LIMIT @limit
            """, r => new DeadLetterAction(new DeadLetterRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Str(r, 4), Rows.Int(r, 5), Time(r, 6)),
                r.GetString(7), Str(r, 8), Time(r, 9)), ("@p", pipeline), ("@limit", limit));

    /// <summary>The values, executions, snapshots and code versions whose id starts with <paramref name="prefix"/> (lower-case hex), at most <paramref name="limit"/>.</summary>
    public List<(string Kind, string Id)> IdsStartingWith(string prefix, int limit) =>
        Query("""
            SELECT kind, id FROM (
                SELECT 'value' AS kind, id FROM annotated_values WHERE id LIKE @p
                UNION ALL SELECT 'execution', id FROM executions WHERE id LIKE @p
                UNION ALL SELECT 'snapshot', id FROM snapshots WHERE id LIKE @p
                UNION ALL SELECT 'code', id FROM code_versions WHERE id LIKE @p
            ) AS matches ORDER BY id, kind LIMIT @limit
            """, r => (r.GetString(0), r.GetString(1)), ("@p", prefix + "%"), ("@limit", limit));

    /// <summary>Per task: the median and the longest of its latest <paramref name="latest"/> executions (succeeded or failed), in milliseconds.</summary>
    public Dictionary<string, (double MedianMs, double MaxMs, int Count)> ExecutionDurations(string pipeline, int latest)
    {
        var byTask = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var (task, started, finished) in Query("""
            SELECT e.task, e.started_at, e.finished_at FROM executions e JOIN snapshots s ON s.id = e.snapshot_id
            WHERE e.pipeline = @p AND e.task IS NOT NULL AND s.replay_of IS NULL ORDER BY e.finished_at DESC LIMIT @limit
            """, r => (r.GetString(0), Time(r, 1), Time(r, 2)), ("@p", pipeline), ("@limit", latest)))
        {
            (byTask.TryGetValue(task, out var list) ? list : byTask[task] = []).Add(Math.Max(0, (finished - started).TotalMilliseconds));
        }

        return byTask.ToDictionary(k => k.Key, k =>
        {
            k.Value.Sort();
            return (k.Value[k.Value.Count / 2], k.Value[^1], k.Value.Count);
        }, StringComparer.Ordinal);
    }

    /// <summary>
    /// Where the work that follows from some values stands: every snapshot that used them or what was made from them
    /// (followed down through succeeded snapshots' outputs, replays left out), by status, and the values among them that
    /// wait in a task's input for other values (a partner on another input, the rest of a sequence or window).
    /// </summary>
    public DerivedWork Derived(string pipeline, IReadOnlyCollection<string> values)
    {
        var seenValues = new HashSet<string>(values, StringComparer.Ordinal);
        var seenSnapshots = new Dictionary<string, SnapshotStatus>(StringComparer.Ordinal);
        var waiting = new List<(string Task, string Input, string Value)>();
        var frontier = values.ToList();
        while (frontier.Count > 0)
        {
            var next = new List<string>();
            foreach (var batch in frontier.Chunk(400))
            {
                var names = batch.Select((_, i) => $"@v{i}").ToArray();
                var parameters = batch.Select((v, i) => ($"@v{i}", (object?)v)).Append(("@p", pipeline)).ToArray();
                var list = string.Join(", ", names);
                var snapshots = Query($"""
                    SELECT DISTINCT s.id, s.status FROM snapshot_inputs si JOIN snapshots s ON s.id = si.snapshot_id
                    WHERE si.value_id IN ({list}) AND s.pipeline = @p AND s.replay_of IS NULL
                    """, r => (r.GetString(0), RegistryStates.ParseSnapshotStatus(r.GetString(1))), parameters);
                var succeeded = snapshots.Where(s => seenSnapshots.TryAdd(s.Item1, s.Item2) && s.Item2 == SnapshotStatus.Succeeded).Select(s => s.Item1).ToList();
                foreach (var made in succeeded.Chunk(400)) // what they made, one query per batch (not one per snapshot: drop --wait polls this)
                {
                    next.AddRange(Query($"SELECT id FROM annotated_values WHERE snapshot_id IN ({string.Join(", ", made.Select((_, i) => $"@s{i}"))})",
                        r => r.GetString(0), [.. made.Select((s, i) => ($"@s{i}", (object?)s))]).Where(seenValues.Add));
                }

                // In a link or an input's buffer and in no snapshot of that task yet: it waits for other values before it runs
                // (one kept in a window's buffer after its snapshot ran is not waiting to run).
                waiting.AddRange(Query($"""
                    SELECT le.task, le.input, le.value_id FROM link_entries le
                    WHERE le.pipeline = @p AND le.value_id IN ({list}) AND le.state IN ('queued', 'taken')
                      AND NOT EXISTS (SELECT 1 FROM snapshot_inputs si JOIN snapshots s ON s.id = si.snapshot_id
                                      WHERE si.value_id = le.value_id AND s.task = le.task AND s.pipeline = le.pipeline AND s.replay_of IS NULL)
                    """, r => (r.GetString(0), r.GetString(1), r.GetString(2)), parameters));
            }

            frontier = next;
        }

        int Count(SnapshotStatus status) => seenSnapshots.Values.Count(s => s == status);
        return new DerivedWork(Count(SnapshotStatus.Ready), Count(SnapshotStatus.Succeeded), Count(SnapshotStatus.Dead), Count(SnapshotStatus.Discarded),
            seenValues.Count, waiting);
    }

    /// <summary>Whether a dead letter of this snapshot was retried (its run now is the one more it was given).</summary>
    public bool WasRetried(string snapshotId) =>
        Scalar("SELECT COUNT(*) FROM dead_letter_actions WHERE snapshot_id = @s AND action = 'retried'", ("@s", snapshotId)) > 0;

    /// <summary>Every pipeline the registry knows, with the spec it was last run with (as JSON), by name.</summary>
    public List<(string Name, string SpecJson)> Pipelines() =>
        Query("SELECT name, spec_json FROM pipelines ORDER BY name", r => (r.GetString(0), r.GetString(1)));

    /// <summary>Since when a pipeline is paused, or null.</summary>
    public DateTimeOffset? PausedSince(string pipeline) =>
        Query("SELECT paused_at FROM pipelines WHERE name = @p", r => r.IsDBNull(0) ? (DateTimeOffset?)null : Time(r, 0), ("@p", pipeline)).FirstOrDefault();

    /// <summary>A snapshot's place in its task's order.</summary>
    public long SnapshotSequence(string id) => Scalar("SELECT sequence FROM snapshots WHERE id = @id", ("@id", id));

    /// <summary>Per task: snapshots by status, values produced, values waiting in links.</summary>
    public Dictionary<string, TaskCounts> TaskCounts(string pipeline)
    {
        var counts = new Dictionary<string, TaskCounts>(StringComparer.Ordinal);
        TaskCounts For(string task) => counts.TryGetValue(task, out var c) ? c : counts[task] = new TaskCounts();
        foreach (var (task, status, n) in Query("SELECT task, status, COUNT(*) FROM snapshots WHERE pipeline = @p GROUP BY task, status",
            r => (r.GetString(0), r.GetString(1), Rows.Long(r, 2)), ("@p", pipeline)))
        {
            var c = For(task);
            switch (RegistryStates.ParseSnapshotStatus(status))
            {
                case SnapshotStatus.Ready: c.Pending = n; break;
                case SnapshotStatus.Succeeded: c.Succeeded = n; break;
                case SnapshotStatus.Dead: c.DeadLettered = n; break;
                case SnapshotStatus.Discarded: c.Discarded = n; break;
                case SnapshotStatus.Replaying or SnapshotStatus.Shadow or SnapshotStatus.ShadowFailed: break; // replays are not the task's runs
            }
        }

        foreach (var (task, n) in Query("SELECT task, COUNT(*) FROM annotated_values WHERE pipeline = @p AND shadow = 0 GROUP BY task", r => (r.GetString(0), Rows.Long(r, 1)), ("@p", pipeline)))
        {
            For(task).Values = n;
        }

        foreach (var (task, n) in Query("SELECT task, COUNT(*) FROM link_entries WHERE pipeline = @p AND state = 'queued' GROUP BY task", r => (r.GetString(0), Rows.Long(r, 1)), ("@p", pipeline)))
        {
            For(task).Queued = n;
        }

        foreach (var (task, n) in Query("SELECT s.task, SUM(s.failures) FROM snapshots s WHERE s.pipeline = @p AND s.replay_of IS NULL GROUP BY s.task", r => (r.GetString(0), r.IsDBNull(1) ? 0 : Rows.Long(r, 1)), ("@p", pipeline)))
        {
            For(task).FailedAttempts = n;
        }

        return counts;
    }

    /// <summary>Per link: values waiting (queued) and consumed.</summary>
    public Dictionary<string, (long Queued, long Taken, long Consumed)> LinkCounts(string pipeline)
    {
        var result = new Dictionary<string, (long, long, long)>(StringComparer.Ordinal);
        foreach (var (link, state, n) in Query("SELECT link, state, COUNT(*) FROM link_entries WHERE pipeline = @p GROUP BY link, state",
            r => (r.GetString(0), r.GetString(1), Rows.Long(r, 2)), ("@p", pipeline)))
        {
            var (q, t, c) = result.GetValueOrDefault(link);
            result[link] = RegistryStates.ParseLinkEntryState(state) switch { LinkEntryState.Queued => (n, t, c), LinkEntryState.Taken => (q, n, c), _ => (q, t, n) };
        }

        return result;
    }

    private static ValueRecord ReadValue(DbDataReader r) => Rows.Value(r);

    private static ExecutionRecord ReadExecution(DbDataReader r) => new(r.GetString(0), r.GetString(1), Rows.Int(r, 2), r.GetString(3), Time(r, 4), Time(r, 5),
        RegistryStates.ParseExecutionStatus(r.GetString(6)), Rows.IntOrNull(r, 7), Str(r, 8), Str(r, 9), Str(r, 10), Str(r, 11));

    private static ExecutionInfo ReadExecutionInfo(DbDataReader r) => new(ReadExecution(r), r.GetString(12), r.GetString(13), r.GetString(14));

    private static CodeVersionRecord ReadCode(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Time(r, 4), Str(r, 5), Str(r, 6), r.IsDBNull(7) ? null : Rows.Long(r, 7), Str(r, 8), Str(r, 9));

    private static string? Str(DbDataReader r, int i) => Rows.Str(r, i);

    private static DateTimeOffset Time(DbDataReader r, int i) => Rows.Time(r, i);

    private long Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
    }

    private List<T> Query<T>(string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private DbCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        beforeQuery?.Invoke(); // a writer's held-back writes, so that this transaction reads its own writes
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            Rows.Add(command, name, value);
        }

        return command;
    }
}

/// <summary>Counts for one task.</summary>
internal sealed class TaskCounts
{
    public long Pending { get; set; }

    public long Succeeded { get; set; }

    public long DeadLettered { get; set; }

    public long Discarded { get; set; }

    public long FailedAttempts { get; set; }

    public long Values { get; set; }

    public long Queued { get; set; }
}
