using Koalja.Router.Registry;
using Npgsql;

namespace Koalja.Testing;

/// <summary>A fresh database on a PostgreSQL server, for one test or benchmark run, dropped afterwards.</summary>
internal sealed class PostgresDatabase : IDisposable
{
    private readonly string _server;

    /// <param name="serverUrl">The server, as <c>postgres://user@host:port/database</c> (the database is where CREATE DATABASE runs).</param>
    public PostgresDatabase(string serverUrl)
    {
        _server = PostgresRegistry.ConnectionStringFromUrl(serverUrl);
        Name = "koalja_" + Guid.NewGuid().ToString("N")[..12];
        Execute($"CREATE DATABASE {Name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(_server) { Database = Name }.ConnectionString;
        Url = serverUrl[..serverUrl.LastIndexOf('/')] + "/" + Name;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>The database as a <c>postgres://</c> URL, as <c>koalja up --registry</c> takes it.</summary>
    public string Url { get; }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(_server);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
