using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Koalja.Router.Registry;

/// <summary>
/// The registry in one SQLite file (WAL, synchronous=FULL): what the router writes is on disk when a
/// transaction commits. One connection writes (the router's); readers open their own connections.
/// </summary>
public sealed class SqliteRegistry : Registry
{
    private readonly string _connectionString;

    public SqliteRegistry(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
        Migrate();
    }

    public string Path { get; }

    public override string Engine => "sqlite";

    public override string Location => Path;

    public override DbConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        pragmas.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=OFF;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    internal override DbTransaction BeginWrite(DbConnection connection) => ((SqliteConnection)connection).BeginTransaction(deferred: false);

    internal override void Prepare(DbCommand command) => command.Prepare();
}
