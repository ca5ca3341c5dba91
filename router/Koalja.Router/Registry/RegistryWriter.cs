using Koalja.Core.Policies;
using System.Data.Common;

namespace Koalja.Router.Registry;

/// <summary>
/// The router's writes, on its one connection, inside one transaction per batch of commands.
/// Every insert is idempotent (a retried execution or a replayed drop writes nothing twice).
/// </summary>
internal sealed class RegistryWriter(Registry registry, DbConnection connection) : IDisposable
{
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>Writes whose results nobody reads, held back to go to the server in one round trip (PostgreSQL).</summary>
    private readonly List<(string Sql, (string Name, object? Value)[] Parameters)> _deferred = [];
    private DbTransaction? _transaction;

    public DbConnection Connection => connection;

    public DbTransaction? Transaction => _transaction;

    /// <summary>How often a reader was asked for inside a transaction: each one sends the held-back writes first (a round trip on PostgreSQL).</summary>
    public long ReadersOpened { get; private set; }

    public void Begin() => _transaction = registry.BeginWrite(connection);

    /// <summary>A reader inside this transaction: it sees every write made so far (held-back writes are sent first).</summary>
    public RegistryReader Reader()
    {
        ReadersOpened++;
        Flush();
        return new RegistryReader(connection, _transaction, Flush);
    }

    public void Commit()
    {
        Flush();
        _transaction?.Commit();
        _transaction?.Dispose();
        _transaction = null;
    }

    public void Rollback()
    {
        _deferred.Clear();
        _transaction?.Rollback();
        _transaction?.Dispose();
        _transaction = null;
    }

    /// <summary>Records a pipeline as paused (since <paramref name="at"/>) or running (null).</summary>
    public void SetPaused(string pipeline, DateTimeOffset? at) =>
        Defer("UPDATE pipelines SET paused_at = @a WHERE name = @p", ("@a", at), ("@p", pipeline));

    public void UpsertPipeline(string name, string revision, string specJson, DateTimeOffset now)
    {
        Defer("INSERT INTO revisions (hash, pipeline, spec_json, created_at) VALUES (@h, @p, @s, @t) ON CONFLICT (hash) DO NOTHING",
            ("@h", revision), ("@p", name), ("@s", specJson), ("@t", now));
        Defer("""
            INSERT INTO pipelines (name, revision, spec_json, created_at, updated_at) VALUES (@p, @h, @s, @t, @t)
            ON CONFLICT (name) DO UPDATE SET revision = excluded.revision, spec_json = excluded.spec_json,
                updated_at = CASE WHEN pipelines.revision = excluded.revision THEN pipelines.updated_at ELSE excluded.updated_at END
            """, ("@p", name), ("@h", revision), ("@s", specJson), ("@t", now));
    }

    /// <summary>Returns false when the version was recorded already.</summary>
    public bool InsertCodeVersion(CodeVersionRecord c) => Exec("""
        INSERT INTO code_versions (id, pipeline, task, kind, created_at, base_version, sha256, size, entrypoint, file_name)
        VALUES (@i, @p, @t, @k, @n, @b, @sha, @size, @e, @f) ON CONFLICT (id) DO NOTHING
        """, ("@i", c.Id), ("@p", c.Pipeline), ("@t", c.Task), ("@k", c.Kind), ("@n", c.CreatedAt), ("@b", c.BaseVersion), ("@sha", c.Sha256),
        ("@size", c.Size), ("@e", c.Entrypoint), ("@f", c.FileName)) > 0;

    /// <summary>Makes <paramref name="version"/> the task's current code; the spec's own version clears the row.</summary>
    public void SetActiveCode(string pipeline, string task, string version, string baseVersion, DateTimeOffset now)
    {
        if (version == baseVersion)
        {
            Defer("DELETE FROM active_code WHERE pipeline = @p AND task = @t", ("@p", pipeline), ("@t", task));
            return;
        }

        Defer("""
            INSERT INTO active_code (pipeline, task, code_version, base_version, activated_at) VALUES (@p, @t, @v, @b, @n)
            ON CONFLICT (pipeline, task) DO UPDATE SET code_version = excluded.code_version, base_version = excluded.base_version, activated_at = excluded.activated_at
            """, ("@p", pipeline), ("@t", task), ("@v", version), ("@b", baseVersion), ("@n", now));
    }

    /// <summary>Records a value; returns its sequence number, or null when a value with this id exists already.</summary>
    public long? InsertValue(ValueRecord v) => Scalar("""
        INSERT INTO annotated_values (id, pipeline, task, output, output_index, sha256, size, media_type, created_at, revision, code_version, snapshot_id, execution_id, source_name, shadow)
        VALUES (@id, @p, @t, @o, @oi, @sha, @size, @mt, @c, @r, @cv, @s, @e, @sn, @sh) ON CONFLICT (id) DO NOTHING RETURNING seq
        """, ("@id", v.Id), ("@p", v.Pipeline), ("@t", v.Task), ("@o", v.Output), ("@oi", v.OutputIndex), ("@sha", v.Sha256), ("@size", v.Size),
        ("@mt", v.MediaType), ("@c", v.CreatedAt), ("@r", v.Revision), ("@cv", v.CodeVersion), ("@s", v.SnapshotId), ("@e", v.ExecutionId), ("@sn", v.SourceName),
        ("@sh", v.Shadow ? 1 : 0)) is long seq ? seq : null;

    public string? FindIngressKey(string pipeline, string task, string key) =>
        Scalar("SELECT value_id FROM ingress_keys WHERE pipeline = @p AND task = @t AND idempotency_key = @k", ("@p", pipeline), ("@t", task), ("@k", key)) as string;

    public void InsertIngressKey(string pipeline, string task, string key, string valueId) =>
        Defer("INSERT INTO ingress_keys (pipeline, task, idempotency_key, value_id) VALUES (@p, @t, @k, @v) ON CONFLICT DO NOTHING",
            ("@p", pipeline), ("@t", task), ("@k", key), ("@v", valueId));

    public PipelineLease? Lease(string pipeline)
    {
        Flush();
        using var reader = Prepare("SELECT pipeline, owner, host, pid, acquired_at, expires_at FROM pipeline_leases WHERE pipeline = @p", [("@p", pipeline)]).ExecuteReader();
        return reader.Read()
            ? new PipelineLease(reader.GetString(0), reader.GetString(1), reader.GetString(2), Rows.Int(reader, 3), Rows.Time(reader, 4), Rows.Time(reader, 5))
            : null;
    }

    /// <summary>Takes or renews a lease when the pipeline is free, already ours, expired, or held by <paramref name="staleOwner"/>; false when it is another's.</summary>
    public bool TakeLease(PipelineLease lease, string staleOwner) => Exec("""
        INSERT INTO pipeline_leases (pipeline, owner, host, pid, acquired_at, expires_at) VALUES (@p, @o, @h, @pid, @a, @e)
        ON CONFLICT (pipeline) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,
            acquired_at = CASE WHEN pipeline_leases.owner = excluded.owner THEN pipeline_leases.acquired_at ELSE excluded.acquired_at END, expires_at = excluded.expires_at
        WHERE pipeline_leases.owner = excluded.owner OR pipeline_leases.expires_at < excluded.acquired_at OR pipeline_leases.owner = @stale
        """, ("@p", lease.Pipeline), ("@o", lease.Owner), ("@h", lease.Host), ("@pid", lease.Pid), ("@a", lease.AcquiredAt), ("@e", lease.ExpiresAt), ("@stale", staleOwner)) > 0;

    /// <summary>Extends this holder's leases; returns how many it still holds.</summary>
    public int RenewLeases(string owner, DateTimeOffset expires) =>
        Exec("UPDATE pipeline_leases SET expires_at = @e WHERE owner = @o", ("@e", expires), ("@o", owner));

    public HashSet<string> LeasedPipelines(string owner)
    {
        Flush();
        using var reader = Prepare("SELECT pipeline FROM pipeline_leases WHERE owner = @o", [("@o", owner)]).ExecuteReader();
        var pipelines = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            pipelines.Add(reader.GetString(0));
        }

        return pipelines;
    }

    public void ReleaseLeases(string owner) => Defer("DELETE FROM pipeline_leases WHERE owner = @o", ("@o", owner));

    public string? FindIngressEvent(string pipeline, string source, string id) =>
        Scalar("SELECT value_id FROM ingress_events WHERE pipeline = @p AND source = @s AND event_id = @i", ("@p", pipeline), ("@s", source), ("@i", id)) as string;

    public void InsertIngressEvent(string pipeline, IngressEventRecord e, string valueId, DateTimeOffset now) => Defer("""
        INSERT INTO ingress_events (pipeline, source, event_id, type, subject, event_time, mode, value_id, received_at) VALUES (@p, @s, @i, @t, @sub, @et, @m, @v, @n)
        ON CONFLICT DO NOTHING
        """, ("@p", pipeline), ("@s", e.Source), ("@i", e.Id), ("@t", e.Type), ("@sub", e.Subject), ("@et", e.Time), ("@m", e.Mode), ("@v", valueId), ("@n", now));

    /// <summary>Returns false when the value is already queued on that input (a replay).</summary>
    public bool InsertLinkEntry(string pipeline, string task, string input, string valueId, string link, long arrival, DateTimeOffset now) => Exec("""
        INSERT INTO link_entries (pipeline, task, input, value_id, link, arrival, state, enqueued_at) VALUES (@p, @t, @i, @v, @l, @a, 'queued', @n)
        ON CONFLICT DO NOTHING
        """, ("@p", pipeline), ("@t", task), ("@i", input), ("@v", valueId), ("@l", link), ("@a", arrival), ("@n", now)) > 0;

    public void SetLinkEntryState(string pipeline, string task, ArrivedValue value, LinkEntryState state, DateTimeOffset now) => Defer("""
        UPDATE link_entries SET state = @s, consumed_at = CASE WHEN @s = 'consumed' THEN @n ELSE consumed_at END
        WHERE pipeline = @p AND task = @t AND input = @i AND value_id = @v AND state <> 'consumed'
        """, ("@s", state.Text()), ("@n", now), ("@p", pipeline), ("@t", task), ("@i", value.Input), ("@v", value.ValueId));

    /// <summary>
    /// Records a snapshot and its ordered inputs; a replay (<paramref name="replayOf"/>) is recorded as a shadow of the original.
    /// A snapshot recorded before is left as it is (its id is a hash of its inputs, so they are the same).
    /// </summary>
    public void InsertSnapshot(string pipeline, string task, string codeVersion, Snapshot snapshot, DateTimeOffset now, SnapshotStatus status = SnapshotStatus.Ready, string? replayOf = null)
    {
        Defer("""
            INSERT INTO snapshots (id, pipeline, task, sequence, code_version, status, created_at, replay_of) VALUES (@id, @p, @t, @s, @c, @st, @n, @r)
            ON CONFLICT (id) DO NOTHING
            """, ("@id", snapshot.Id), ("@p", pipeline), ("@t", task), ("@s", snapshot.Sequence), ("@c", codeVersion), ("@st", status.Text()), ("@n", now), ("@r", replayOf));
        foreach (var input in snapshot.Inputs)
        {
            for (var i = 0; i < input.Values.Count; i++)
            {
                var value = input.Values[i];
                Defer("INSERT INTO snapshot_inputs (snapshot_id, input, position, value_id, arrived_on, arrival) VALUES (@s, @i, @pos, @v, @a, @ar) ON CONFLICT DO NOTHING",
                    ("@s", snapshot.Id), ("@i", input.Name), ("@pos", i), ("@v", value.ValueId), ("@a", value.Input), ("@ar", value.Arrival));
            }
        }
    }

    /// <summary>Makes a replay's shadow values ordinary outputs.</summary>
    public void PublishShadows(string snapshotId) => Defer("UPDATE annotated_values SET shadow = 0 WHERE snapshot_id = @s AND shadow = 1", ("@s", snapshotId));

    public void RecordAttempt(string snapshotId, bool failed) =>
        Defer("UPDATE snapshots SET attempts = attempts + 1, failures = failures + @f WHERE id = @id", ("@f", failed ? 1 : 0), ("@id", snapshotId));

    public void FinishSnapshot(string snapshotId, SnapshotStatus status, DateTimeOffset now, SnapshotStatus from = SnapshotStatus.Ready) =>
        Defer("UPDATE snapshots SET status = @s, finished_at = @n WHERE id = @id AND status = @from", ("@s", status.Text()), ("@n", now), ("@id", snapshotId), ("@from", from.Text()));

    public void InsertExecution(ExecutionRecord e, string pipeline, string task) => Defer("""
        INSERT INTO executions (id, snapshot_id, attempt, worker, started_at, finished_at, status, exit_code, error, stderr_tail, log_sha256, pipeline, task, environment)
        VALUES (@id, @s, @a, @w, @st, @f, @status, @x, @e, @tail, @log, @p, @t, @env) ON CONFLICT (id) DO NOTHING
        """, ("@id", e.Id), ("@s", e.SnapshotId), ("@a", e.Attempt), ("@w", e.Worker), ("@st", e.StartedAt), ("@f", e.FinishedAt),
        ("@status", e.Status.Text()), ("@x", e.ExitCode), ("@e", e.Error), ("@tail", e.StderrTail), ("@log", e.LogSha256), ("@p", pipeline), ("@t", task), ("@env", e.EnvironmentJson));

    /// <summary>Moves a dead letter to the record of what was done with it (<c>retried</c> or <c>discarded</c>).</summary>
    public void ResolveDeadLetter(string snapshotId, string action, string? codeVersion, DateTimeOffset now)
    {
        Defer("""
            INSERT INTO dead_letter_actions (snapshot_id, pipeline, task, reason, stderr_tail, attempts, created_at, action, code_version, acted_at)
            SELECT snapshot_id, pipeline, task, reason, stderr_tail, attempts, created_at, @a, @cv, @n FROM dead_letters WHERE snapshot_id = @s
            """, ("@a", action), ("@cv", codeVersion), ("@n", now), ("@s", snapshotId));
        Defer("DELETE FROM dead_letters WHERE snapshot_id = @s", ("@s", snapshotId));
    }

    /// <summary>A dead snapshot made ready again, to run with <paramref name="codeVersion"/> (its task's current code).</summary>
    public void ReviveSnapshot(string snapshotId, string codeVersion) =>
        Defer("UPDATE snapshots SET status = @ready, code_version = @cv, finished_at = NULL WHERE id = @id AND status = @dead",
            ("@ready", SnapshotStatus.Ready.Text()), ("@cv", codeVersion), ("@id", snapshotId), ("@dead", SnapshotStatus.Dead.Text()));

    public void InsertDeadLetter(DeadLetterRecord d) => Defer("""
        INSERT INTO dead_letters (snapshot_id, pipeline, task, reason, stderr_tail, attempts, created_at) VALUES (@s, @p, @t, @r, @tail, @a, @n)
        ON CONFLICT (snapshot_id) DO NOTHING
        """, ("@s", d.SnapshotId), ("@p", d.Pipeline), ("@t", d.Task), ("@r", d.Reason), ("@tail", d.StderrTail), ("@a", d.Attempts), ("@n", d.CreatedAt));

    public void Dispose()
    {
        _transaction?.Dispose();
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }
    }

    private int Exec(string sql, params (string Name, object? Value)[] parameters)
    {
        Flush();
        return Prepare(sql, parameters).ExecuteNonQuery();
    }

    private object? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        Flush();
        return Prepare(sql, parameters).ExecuteScalar();
    }

    /// <summary>A write whose result is not needed: sent with the next one that is (or at commit) where the engine batches; at once otherwise.</summary>
    private void Defer(string sql, params (string Name, object? Value)[] parameters)
    {
        if (!registry.BatchesWrites)
        {
            Prepare(sql, parameters).ExecuteNonQuery();
            return;
        }

        _deferred.Add((sql, parameters));
        if (_deferred.Count >= 1000)
        {
            Flush();
        }
    }

    /// <summary>Sends the held-back writes, in order, in one batch.</summary>
    private void Flush()
    {
        if (_deferred.Count == 0)
        {
            return;
        }

        using var batch = connection.CreateBatch();
        batch.Transaction = _transaction;
        foreach (var (sql, parameters) in _deferred)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = Rows.ToParameter(value);
                command.Parameters.Add(parameter);
            }

            batch.BatchCommands.Add(command);
        }

        _deferred.Clear();
        batch.ExecuteNonQuery();
    }

    private DbCommand Prepare(string sql, (string Name, object? Value)[] parameters)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = _transaction;
            foreach (var (name, value) in parameters)
            {
                Rows.Add(command, name, value);
            }

            registry.Prepare(command);
            _commands[sql] = command;
        }

        command.Transaction = _transaction;
        for (var i = 0; i < parameters.Length; i++)
        {
            command.Parameters[i].Value = Rows.ToParameter(parameters[i].Value);
        }

        return command;
    }
}
