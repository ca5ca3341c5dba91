using System.Data.Common;
using System.Globalization;
using Koalja.Storage;

namespace Koalja.Router.Registry;

/// <summary>What to keep when pruning: values newer than a time, and the newest of each task output; null keeps none by that rule.</summary>
public sealed record RetentionRule(DateTimeOffset? KeepNewerThan, int? KeepLast, string? Pipeline = null);

/// <summary>What a prune or a removal deletes (or would, on a dry run).</summary>
public sealed record RetentionReport(long Values, long ValueBytes, long Snapshots, long Executions, long Blobs, long KeptValues);

/// <summary>
/// Deletes data from the registry and the store while no router runs on it: what a retention rule does not keep
/// (<see cref="PruneAsync"/>), or a whole pipeline (<see cref="RemovePipelineAsync"/>).
/// A value is kept when the rule keeps it, when work still needs it (waiting in a link, the input of a snapshot that
/// has not finished or of a dead letter), or when a kept value was computed from it, transitively: the lineage of
/// everything kept stays whole. A finished snapshot goes with its outputs, or when one of its inputs goes, together
/// with its executions. Content is deleted once no value, log or code version refers to it, after the rows are gone.
/// </summary>
/// <param name="respectLeases">
/// Refuse while a live lease says a router runs a pipeline in scope (a shared registry); false where the caller knows
/// no router runs (it holds the data directory's lock), so a lease a killed server left does not stand in the way.
/// </param>
public sealed class Retention(Registry registry, IArtifactStore store, bool respectLeases = true)
{
    /// <summary>The rows that go with the values and snapshots to delete, children first.</summary>
    private static readonly string[] Deletes =
    [
        "DELETE FROM snapshot_inputs WHERE snapshot_id IN (SELECT id FROM prune_snap)",
        "DELETE FROM executions WHERE snapshot_id IN (SELECT id FROM prune_snap)",
        "DELETE FROM dead_letter_actions WHERE snapshot_id IN (SELECT id FROM prune_snap)",
        "DELETE FROM dead_letters WHERE snapshot_id IN (SELECT id FROM prune_snap)",
        "DELETE FROM snapshots WHERE id IN (SELECT id FROM prune_snap)",
        "DELETE FROM link_entries WHERE value_id IN (SELECT id FROM prune_gone)",
        "DELETE FROM ingress_keys WHERE value_id IN (SELECT id FROM prune_gone)",
        "DELETE FROM ingress_events WHERE value_id IN (SELECT id FROM prune_gone)",
        "DELETE FROM annotated_values WHERE id IN (SELECT id FROM prune_gone)",
    ];

    private static readonly string[] TempTables = ["prune_roots", "prune_keep", "prune_gone", "prune_snap"];

    private static readonly string Finished = string.Join(", ",
        new[] { SnapshotStatus.Succeeded, SnapshotStatus.Discarded, SnapshotStatus.Shadow, SnapshotStatus.ShadowFailed }.Select(s => $"'{s.Text()}'"));

    /// <summary>Deletes what <paramref name="rule"/> does not keep (nothing, and only counts it, when <paramref name="dryRun"/>).</summary>
    public Task<RetentionReport> PruneAsync(RetentionRule rule, bool dryRun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var scope = rule.Pipeline is null ? "1 = 1" : "pipeline = @p";
        var roots = new List<string>
        {
            // out of the rule's scope, everything stays
            $"SELECT id FROM annotated_values WHERE NOT ({scope})",
            $"SELECT value_id AS id FROM link_entries WHERE state <> '{LinkEntryState.Consumed.Text()}'",
            $"SELECT si.value_id AS id FROM snapshot_inputs si JOIN snapshots s ON s.id = si.snapshot_id WHERE s.status NOT IN ({Finished})",
        };
        if (rule.KeepNewerThan is not null)
        {
            roots.Add("SELECT id FROM annotated_values WHERE created_at >= @since");
        }

        if (rule.KeepLast is not null)
        {
            // the newest published values: a replay's shadow outputs do not count
            roots.Add("SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY pipeline, task, output ORDER BY seq DESC) AS n FROM annotated_values WHERE shadow = 0) r WHERE n <= @last");
        }

        var snapshots = $"""
            SELECT s.id FROM snapshots s WHERE {(rule.Pipeline is null ? "1 = 1" : "s.pipeline = @p")} AND s.status IN ({Finished}) AND (
                EXISTS (SELECT 1 FROM snapshot_inputs si JOIN prune_gone g ON g.id = si.value_id WHERE si.snapshot_id = s.id)
                OR (EXISTS (SELECT 1 FROM annotated_values v WHERE v.snapshot_id = s.id)
                    AND NOT EXISTS (SELECT 1 FROM annotated_values v JOIN prune_keep k ON k.id = v.id WHERE v.snapshot_id = s.id)))
            """;
        return RunAsync(roots, $"SELECT id FROM annotated_values WHERE {scope}", snapshots, [], scope, dryRun, Parameters(rule), cancellationToken);
    }

    /// <summary>Deletes a pipeline: its values, snapshots, executions, queues, dead letters, code versions and its record.</summary>
    public Task<RetentionReport> RemovePipelineAsync(string pipeline, bool dryRun, CancellationToken cancellationToken = default)
    {
        string[] tables = ["link_entries", "dead_letters", "dead_letter_actions", "ingress_keys", "ingress_events", "active_code", "code_versions", "revisions", "pipeline_leases"];
        return RunAsync(["SELECT id FROM annotated_values WHERE pipeline <> @p"], "SELECT id FROM annotated_values WHERE pipeline = @p",
            "SELECT id FROM snapshots WHERE pipeline = @p", [.. tables.Select(t => $"DELETE FROM {t} WHERE pipeline = @p"), "DELETE FROM pipelines WHERE name = @p"],
            "pipeline = @p", dryRun, [("@p", pipeline)], cancellationToken);
    }

    /// <summary>Whether the registry knows the pipeline.</summary>
    public bool Knows(string pipeline)
    {
        using var connection = registry.Open();
        using var command = Command(connection, null, "SELECT COUNT(*) FROM pipelines WHERE name = @p", [("@p", pipeline)]);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    private static (string, object?)[] Parameters(RetentionRule rule) =>
    [
        ("@p", rule.Pipeline ?? ""),
        ("@since", rule.KeepNewerThan is { } since ? Rows.Text(since) : ""),
        ("@last", (long)(rule.KeepLast ?? 0)),
    ];

    /// <exception cref="InvalidOperationException">A router holds a live lease on a pipeline in <paramref name="scope"/>.</exception>
    private async Task<RetentionReport> RunAsync(List<string> roots, string candidates, string snapshots, string[] alsoDelete, string scope, bool dryRun,
        (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        List<string> blobs;
        RetentionReport report;
        using (var connection = registry.Open())
        {
            using var transaction = registry.BeginWrite(connection);
            void Exec(string sql)
            {
                using var command = Command(connection, transaction, sql, parameters);
                command.ExecuteNonQuery();
            }

            long Count(string sql)
            {
                using var command = Command(connection, transaction, sql, parameters);
                return Convert.ToInt64(command.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
            }

            if (respectLeases && Strings(connection, transaction,
                $"SELECT pipeline || ' (' || host || ', pid ' || pid || ')' FROM pipeline_leases WHERE expires_at > @now AND {scope}",
                [.. parameters, ("@now", Rows.Text(DateTimeOffset.UtcNow))]) is [_, ..] routed)
            {
                throw new InvalidOperationException($"A Koalja router runs {string.Join(", ", routed)}; stop it first: data is deleted only where nothing runs.");
            }

            foreach (var table in TempTables)
            {
                Exec($"DROP TABLE IF EXISTS {table}");
                Exec($"CREATE TEMP TABLE {table} (id TEXT PRIMARY KEY)");
            }

            foreach (var root in roots)
            {
                Exec($"INSERT INTO prune_roots (id) SELECT DISTINCT id FROM ({root}) r WHERE id IS NOT NULL ON CONFLICT (id) DO NOTHING");
            }

            // everything a kept value was computed from, and so on up
            Exec("""
                WITH RECURSIVE keep(id) AS (
                    SELECT id FROM prune_roots
                    UNION
                    SELECT si.value_id FROM keep k JOIN annotated_values v ON v.id = k.id JOIN snapshot_inputs si ON si.snapshot_id = v.snapshot_id
                )
                INSERT INTO prune_keep (id) SELECT id FROM keep
                """);
            Exec($"INSERT INTO prune_gone (id) SELECT id FROM ({candidates}) c WHERE id NOT IN (SELECT id FROM prune_keep)");
            Exec($"INSERT INTO prune_snap (id) {snapshots}");

            // content no remaining value, log or code version refers to
            blobs = Strings(connection, transaction, """
                SELECT c.sha FROM (
                    SELECT sha256 AS sha FROM annotated_values WHERE id IN (SELECT id FROM prune_gone)
                    UNION SELECT log_sha256 FROM executions WHERE snapshot_id IN (SELECT id FROM prune_snap) AND log_sha256 IS NOT NULL
                ) c
                WHERE NOT EXISTS (SELECT 1 FROM annotated_values v WHERE v.sha256 = c.sha AND v.id NOT IN (SELECT id FROM prune_gone))
                  AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.log_sha256 = c.sha AND e.snapshot_id NOT IN (SELECT id FROM prune_snap))
                  AND NOT EXISTS (SELECT 1 FROM code_versions cv WHERE cv.sha256 = c.sha)
                """, parameters);
            if (alsoDelete.Length > 0)
            {
                // a removed pipeline's code packages go too, unless another pipeline's code version is the same bytes
                blobs.AddRange(Strings(connection, transaction, """
                    SELECT DISTINCT sha256 FROM code_versions cv WHERE pipeline = @p AND sha256 IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM code_versions o WHERE o.sha256 = cv.sha256 AND o.pipeline <> @p)
                      AND NOT EXISTS (SELECT 1 FROM annotated_values v WHERE v.sha256 = cv.sha256 AND v.id NOT IN (SELECT id FROM prune_gone))
                    """, parameters).Except(blobs, StringComparer.Ordinal));
            }

            report = new RetentionReport(
                Count("SELECT COUNT(*) FROM prune_gone"),
                Count("SELECT COALESCE(SUM(size), 0) FROM (SELECT DISTINCT sha256, size FROM annotated_values WHERE id IN (SELECT id FROM prune_gone)) d"),
                Count("SELECT COUNT(*) FROM prune_snap"),
                Count("SELECT COUNT(*) FROM executions WHERE snapshot_id IN (SELECT id FROM prune_snap)"),
                blobs.Count,
                Count($"SELECT COUNT(*) FROM ({candidates}) c WHERE id IN (SELECT id FROM prune_keep)"));
            if (dryRun)
            {
                transaction.Rollback();
                return report;
            }

            foreach (var sql in Deletes.Concat(alsoDelete))
            {
                Exec(sql);
            }

            foreach (var table in TempTables)
            {
                Exec($"DROP TABLE {table}");
            }

            transaction.Commit();
        }

        // after the rows: a crash in between leaves content nothing refers to, never a value without its content
        foreach (var sha in blobs)
        {
            await store.DeleteAsync(sha, cancellationToken);
        }

        return report;
    }

    private static List<string> Strings(DbConnection connection, DbTransaction transaction, string sql, (string, object?)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        using var reader = command.ExecuteReader();
        var list = new List<string>();
        while (reader.Read())
        {
            list.Add(reader.GetString(0));
        }

        return list;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters.Where(p => sql.Contains(p.Name, StringComparison.Ordinal)))
        {
            Rows.Add(command, name, value);
        }

        return command;
    }
}
