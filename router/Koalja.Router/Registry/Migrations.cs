namespace Koalja.Router.Registry;

/// <summary>
/// The registry schema, as numbered migrations applied in order and recorded in <c>schema_migrations</c>.
/// Plain SQL that SQLite and PostgreSQL both accept. Never edit a released migration: add one.
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<(int Version, string Name, string Sql)> All =
    [
        (1, "initial schema", """
            CREATE TABLE pipelines (
                name TEXT PRIMARY KEY,
                revision TEXT NOT NULL,
                spec_json TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE revisions (
                hash TEXT PRIMARY KEY,
                pipeline TEXT NOT NULL,
                spec_json TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE TABLE code_versions (
                id TEXT PRIMARY KEY,
                pipeline TEXT NOT NULL,
                task TEXT NOT NULL,
                kind TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE TABLE annotated_values (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                pipeline TEXT NOT NULL,
                task TEXT NOT NULL,
                output TEXT NOT NULL,
                output_index INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                size INTEGER NOT NULL,
                media_type TEXT NOT NULL,
                created_at TEXT NOT NULL,
                revision TEXT NOT NULL,
                code_version TEXT,
                snapshot_id TEXT,
                execution_id TEXT,
                source_name TEXT
            );
            CREATE INDEX ix_values_output ON annotated_values (pipeline, task, output, seq);
            CREATE INDEX ix_values_snapshot ON annotated_values (snapshot_id);
            CREATE TABLE ingress_keys (
                pipeline TEXT NOT NULL,
                task TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                value_id TEXT NOT NULL,
                PRIMARY KEY (pipeline, task, idempotency_key)
            );
            CREATE TABLE snapshots (
                id TEXT PRIMARY KEY,
                pipeline TEXT NOT NULL,
                task TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                code_version TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                finished_at TEXT
            );
            CREATE INDEX ix_snapshots_task ON snapshots (pipeline, task, status, sequence);
            CREATE TABLE snapshot_inputs (
                snapshot_id TEXT NOT NULL,
                input TEXT NOT NULL,
                position INTEGER NOT NULL,
                value_id TEXT NOT NULL,
                arrived_on TEXT NOT NULL,
                arrival INTEGER NOT NULL,
                PRIMARY KEY (snapshot_id, input, position)
            );
            CREATE INDEX ix_snapshot_inputs_value ON snapshot_inputs (value_id);
            CREATE TABLE executions (
                id TEXT PRIMARY KEY,
                snapshot_id TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                worker TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                status TEXT NOT NULL,
                exit_code INTEGER,
                error TEXT,
                stderr_tail TEXT,
                log_sha256 TEXT
            );
            CREATE INDEX ix_executions_snapshot ON executions (snapshot_id, attempt);
            CREATE TABLE link_entries (
                pipeline TEXT NOT NULL,
                task TEXT NOT NULL,
                input TEXT NOT NULL,
                value_id TEXT NOT NULL,
                link TEXT NOT NULL,
                arrival INTEGER NOT NULL,
                state TEXT NOT NULL,
                enqueued_at TEXT NOT NULL,
                consumed_at TEXT,
                PRIMARY KEY (pipeline, task, input, value_id)
            );
            CREATE INDEX ix_link_entries_state ON link_entries (pipeline, task, state, arrival);
            CREATE TABLE dead_letters (
                snapshot_id TEXT PRIMARY KEY,
                pipeline TEXT NOT NULL,
                task TEXT NOT NULL,
                reason TEXT NOT NULL,
                stderr_tail TEXT,
                attempts INTEGER NOT NULL,
                created_at TEXT NOT NULL
            );
            """),
        (2, "dropped code, shadow values, lineage indexes", """
            ALTER TABLE code_versions ADD COLUMN base_version TEXT;
            ALTER TABLE code_versions ADD COLUMN sha256 TEXT;
            ALTER TABLE code_versions ADD COLUMN size INTEGER;
            ALTER TABLE code_versions ADD COLUMN entrypoint TEXT;
            ALTER TABLE code_versions ADD COLUMN file_name TEXT;
            CREATE INDEX ix_code_versions_task ON code_versions (pipeline, task, created_at);
            CREATE TABLE active_code (
                pipeline TEXT NOT NULL,
                task TEXT NOT NULL,
                code_version TEXT NOT NULL,
                base_version TEXT NOT NULL,
                activated_at TEXT NOT NULL,
                PRIMARY KEY (pipeline, task)
            );
            ALTER TABLE annotated_values ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX ix_values_code_version ON annotated_values (code_version, seq);
            CREATE INDEX ix_values_execution ON annotated_values (execution_id);
            ALTER TABLE snapshots ADD COLUMN replay_of TEXT;
            """),
        (3, "ingress CloudEvents", """
            CREATE TABLE ingress_events (
                pipeline TEXT NOT NULL,
                source TEXT NOT NULL,
                event_id TEXT NOT NULL,
                type TEXT NOT NULL,
                subject TEXT,
                event_time TEXT,
                mode TEXT NOT NULL,
                value_id TEXT NOT NULL,
                received_at TEXT NOT NULL,
                PRIMARY KEY (pipeline, source, event_id)
            );
            CREATE INDEX ix_ingress_events_value ON ingress_events (value_id);
            """),
        (4, "pipeline leases", """
            CREATE TABLE pipeline_leases (
                pipeline TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                acquired_at TEXT NOT NULL,
                expires_at TEXT NOT NULL
            );
            """),
        (5, "executions by task", """
            ALTER TABLE executions ADD COLUMN pipeline TEXT;
            ALTER TABLE executions ADD COLUMN task TEXT;
            UPDATE executions SET
                pipeline = (SELECT s.pipeline FROM snapshots s WHERE s.id = executions.snapshot_id),
                task = (SELECT s.task FROM snapshots s WHERE s.id = executions.snapshot_id);
            CREATE INDEX ix_executions_task ON executions (pipeline, task, finished_at, id);
            """),
        (6, "dead letters retried or discarded", """
            CREATE TABLE dead_letter_actions (
                snapshot_id TEXT NOT NULL,
                pipeline TEXT NOT NULL,
                task TEXT NOT NULL,
                reason TEXT NOT NULL,
                stderr_tail TEXT,
                attempts INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                action TEXT NOT NULL,
                code_version TEXT,
                acted_at TEXT NOT NULL
            );
            CREATE INDEX ix_dead_letter_actions ON dead_letter_actions (pipeline, acted_at);
            CREATE INDEX ix_dead_letter_actions_snapshot ON dead_letter_actions (snapshot_id);
            """),
        (7, "paused pipelines", """
            ALTER TABLE pipelines ADD COLUMN paused_at TEXT;
            """),
        (8, "what follows from a value, a pipeline's latest executions", """
            CREATE INDEX ix_link_entries_value ON link_entries (value_id);
            CREATE INDEX ix_executions_finished ON executions (pipeline, finished_at);
            """),
        (9, "where an execution ran", """
            ALTER TABLE executions ADD COLUMN environment TEXT;
            """),
    ];
}
