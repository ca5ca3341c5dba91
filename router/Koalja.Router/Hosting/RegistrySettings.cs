using Koalja.Router.Registry;

namespace Koalja.Router.Hosting;

/// <summary>
/// Which registry to use: <c>--registry</c>, else <c>KOALJA_REGISTRY</c>, else SQLite in the data directory. A value is
/// <c>postgres://user:password@host:port/database</c> (PostgreSQL, shared by several Koalja processes) or
/// <c>sqlite:PATH</c>; the password may also come from <c>PGPASSWORD</c>.
/// </summary>
public static class RegistrySettings
{
    public const string Variable = "KOALJA_REGISTRY";

    /// <exception cref="BackendException">The setting is not usable; the message says which and why.</exception>
    public static Registry.Registry Open(string? flag, Func<string, string?> environment, string defaultSqlitePath)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var (value, origin) = flag is { Length: > 0 } ? (flag, "--registry") : environment(Variable) is { Length: > 0 } env ? (env, Variable) : (null, null);
        if (value is null or "sqlite")
        {
            return new SqliteRegistry(defaultSqlitePath);
        }

        if (value.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            var path = value["sqlite:".Length..];
            return path.Length == 0 ? throw new BackendException($"{origin} '{value}' names no file; use sqlite:PATH") : new SqliteRegistry(path);
        }

        if (value.StartsWith("postgres://", StringComparison.Ordinal) || value.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            string connectionString;
            try
            {
                connectionString = PostgresRegistry.ConnectionStringFromUrl(value);
            }
            catch (FormatException e)
            {
                throw new BackendException($"{origin}: {e.Message}", e);
            }

            try
            {
                return new PostgresRegistry(connectionString);
            }
            catch (InvalidOperationException e)
            {
                throw new BackendException($"{origin}: {e.Message}", e);
            }
        }

        throw new BackendException($"{origin} '{value}' is not a registry: use postgres://user:password@host:port/database, or sqlite:PATH (the default is SQLite in the data directory)");
    }
}
