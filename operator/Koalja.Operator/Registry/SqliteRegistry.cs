using Microsoft.Data.Sqlite;

namespace Koalja.Operator.Registry;

/// <summary>
/// The registry in one SQLite file (WAL, synchronous=FULL): what the router writes is on disk when a
/// transaction commits. One connection writes (the router's); readers open their own connections.
/// </summary>
public sealed class SqliteRegistry
{
    private readonly string _connectionString;

    public SqliteRegistry(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
        using var connection = Open();
        Migrate(connection);
    }

    public string Path { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        pragmas.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=OFF;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    public int SchemaVersion
    {
        get
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static void Migrate(SqliteConnection connection)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";
            create.ExecuteNonQuery();
        }

        using var transaction = connection.BeginTransaction();
        var applied = new HashSet<int>();
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT version FROM schema_migrations";
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        var newest = Migrations.All.Max(m => m.Version);
        if (applied.Count > 0 && applied.Max() > newest)
        {
            throw new InvalidOperationException(
                $"The registry has schema version {applied.Max()}, newer than this Koalja knows ({newest}); use a newer Koalja with this data directory.");
        }

        foreach (var (version, name, sql) in Migrations.All.Where(m => !applied.Contains(m.Version)).OrderBy(m => m.Version))
        {
            using var migrate = connection.CreateCommand();
            migrate.Transaction = transaction;
            migrate.CommandText = sql + "\nINSERT INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t);";
            migrate.Parameters.AddWithValue("$v", version);
            migrate.Parameters.AddWithValue("$n", name);
            migrate.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToString("O"));
            migrate.ExecuteNonQuery();
        }

        transaction.Commit();
    }
}
