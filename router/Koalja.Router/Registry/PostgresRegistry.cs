using System.Data;
using System.Data.Common;
using System.Text.RegularExpressions;
using Npgsql;

namespace Koalja.Router.Registry;

/// <summary>
/// The registry in a PostgreSQL database, shared by several Koalja processes: the same schema and migrations as
/// SQLite (integers are BIGINT, the value sequence a BIGSERIAL), migrations serialised by an advisory lock, and
/// each transaction committed durably before the router acknowledges it.
/// </summary>
public sealed partial class PostgresRegistry : Registry, IDisposable
{
    /// <summary>The key of the advisory lock that serialises migrations ("koalja" in ASCII).</summary>
    private const long MigrationLock = 0x6B6F616C6A61;

    private readonly NpgsqlDataSource _dataSource;

    /// <param name="connectionString">An Npgsql connection string (<c>Host=...;Database=...</c>); see <see cref="ConnectionStringFromUrl"/>.</param>
    public PostgresRegistry(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 };
        builder.ApplicationName ??= "koalja";
        Location = $"postgresql://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            Migrate();
        }
        catch (NpgsqlException e)
        {
            _dataSource.Dispose();
            throw new InvalidOperationException($"Cannot use the PostgreSQL registry at {Location}: {e.Message}", e);
        }
    }

    public override string Engine => "postgresql";

    public override string Location { get; }

    public override DbConnection Open() => _dataSource.OpenConnection();

    internal override DbTransaction BeginWrite(DbConnection connection) => connection.BeginTransaction(IsolationLevel.ReadCommitted);

    /// <summary>Every statement is a round trip to the server: writes nobody reads the result of are sent together.</summary>
    internal override bool BatchesWrites => true;

    /// <summary>SQLite's 64-bit INTEGER is BIGINT here, and its AUTOINCREMENT key a BIGSERIAL.</summary>
    internal override string Dialect(string sql) =>
        Integer().Replace(sql.Replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY", StringComparison.Ordinal), "BIGINT");

    internal override void LockForMigration(DbConnection connection, DbTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT pg_advisory_xact_lock({MigrationLock})";
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// An Npgsql connection string from a <c>postgres://user:password@host:port/database?param=value</c> URL
    /// (<c>postgresql://</c> too); query parameters are Npgsql settings (e.g. <c>sslmode=require</c>).
    /// </summary>
    /// <exception cref="FormatException">The URL is not a PostgreSQL URL; the message says what is wrong.</exception>
    public static string ConnectionStringFromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql"))
        {
            throw new FormatException($"'{url}' is not a PostgreSQL URL; expected postgres://user:password@host:port/database");
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            throw new FormatException($"The PostgreSQL URL names no database: expected postgres://user@{uri.Host}:{(uri.IsDefaultPort ? 5432 : uri.Port)}/DATABASE");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = database,
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.IndexOf('=') is var i and > 0 ? (pair[..i], pair[(i + 1)..]) : (pair, "");
            try
            {
                builder[Uri.UnescapeDataString(key)] = Uri.UnescapeDataString(value);
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"The PostgreSQL URL's parameter '{Uri.UnescapeDataString(key)}' is not an Npgsql setting: {e.Message}", e);
            }
        }

        return builder.ConnectionString;
    }

    public void Dispose() => _dataSource.Dispose();

    [GeneratedRegex(@"\bINTEGER\b")]
    private static partial Regex Integer();
}
