using System.Data.Common;
using System.Globalization;

namespace Koalja.Router.Registry;

/// <summary>
/// The registry: values, snapshots, executions, link queues, code versions and events, in one schema on two
/// engines (<see cref="SqliteRegistry"/> embedded, <see cref="PostgresRegistry"/> shared). The router is its only
/// writer, on one connection, one transaction per batch; readers open their own connections. The schema is
/// <see cref="Migrations"/>, applied at start, in order, once.
/// </summary>
public abstract class Registry
{
    /// <summary><c>sqlite</c> or <c>postgresql</c>.</summary>
    public abstract string Engine { get; }

    /// <summary>Where the registry is, for messages (a path, or a host and database without the password).</summary>
    public abstract string Location { get; }

    /// <summary>A new open connection (the caller disposes it).</summary>
    public abstract DbConnection Open();

    /// <summary>Begins the write transaction of the router's batch (SQLite takes the write lock at once).</summary>
    internal abstract DbTransaction BeginWrite(DbConnection connection);

    /// <summary>Whether writes whose results are not needed go to the server in batches (one round trip for many).</summary>
    internal virtual bool BatchesWrites => false;

    /// <summary>Prepares a command that will run many times (where the engine profits from it).</summary>
    internal virtual void Prepare(DbCommand command)
    {
    }

    /// <summary>A migration's SQL in this engine's dialect (the migrations are written for both).</summary>
    internal virtual string Dialect(string sql) => sql;

    /// <summary>Serialises migrations between processes that share the registry (PostgreSQL); SQLite's write lock does that itself.</summary>
    internal virtual void LockForMigration(DbConnection connection, DbTransaction transaction)
    {
    }

    public int SchemaVersion
    {
        get
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
            return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Applies the migrations this registry lacks; refuses a registry made by a newer Koalja.</summary>
    protected void Migrate()
    {
        using var connection = Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = Dialect("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
            create.ExecuteNonQuery();
        }

        using var transaction = BeginWrite(connection);
        LockForMigration(connection, transaction);
        var applied = new HashSet<int>();
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT version FROM schema_migrations";
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                applied.Add(Rows.Int(reader, 0));
            }
        }

        var newest = Migrations.All.Max(m => m.Version);
        if (applied.Count > 0 && applied.Max() > newest)
        {
            throw new InvalidOperationException(
                $"The registry ({Location}) has schema version {applied.Max()}, newer than this Koalja knows ({newest}); use a newer Koalja with this registry.");
        }

        foreach (var (version, name, sql) in Migrations.All.Where(m => !applied.Contains(m.Version)).OrderBy(m => m.Version))
        {
            using var migrate = connection.CreateCommand();
            migrate.Transaction = transaction;
            migrate.CommandText = Dialect(sql) + "\nINSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t);";
            Rows.Add(migrate, "@v", version);
            Rows.Add(migrate, "@n", name);
            Rows.Add(migrate, "@t", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            migrate.ExecuteNonQuery();
        }

        transaction.Commit();
    }
}
