using Npgsql;

namespace Koalja.Operator.Tests;

/// <summary>A fresh database on the test PostgreSQL server (tests/servers/postgres), dropped afterwards.</summary>
internal sealed class PostgresDatabase : IDisposable
{
    private readonly string _server;

    public PostgresDatabase()
    {
        _server = Registry.PostgresRegistry.ConnectionStringFromUrl(Testing.TestServers.Postgres);
        Name = "koalja_" + Guid.NewGuid().ToString("N")[..12];
        Execute($"CREATE DATABASE {Name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(_server) { Database = Name }.ConnectionString;
        Url = Testing.TestServers.Postgres[..Testing.TestServers.Postgres.LastIndexOf('/')] + "/" + Name;
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
