using Koalja.Operator.Registry;
using Npgsql;

namespace Koalja.Benchmarks;

/// <summary>A fresh database on a PostgreSQL server for one benchmark run, dropped afterwards.</summary>
internal sealed class BenchDatabase : IDisposable
{
    private readonly string _server;
    private readonly string _name = "koalja_bench_" + Guid.NewGuid().ToString("N")[..12];

    private BenchDatabase(string serverUrl)
    {
        _server = PostgresRegistry.ConnectionStringFromUrl(serverUrl);
        Execute($"CREATE DATABASE {_name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(_server) { Database = _name }.ConnectionString;
    }

    public string ConnectionString { get; }

    public static BenchDatabase Create(string serverUrl) => new(serverUrl);

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
    }

    private void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(_server);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
