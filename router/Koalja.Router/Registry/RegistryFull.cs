using Koalja.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Koalja.Router.Registry;

/// <summary>Tells a registry write that failed for want of disk space (SQLITE_FULL, PostgreSQL's disk_full, ENOSPC) from other failures.</summary>
internal static class RegistryFull
{
    private const int SqliteFull = 13;
    private const string PostgresDiskFull = "53100";

    public static bool Is(Exception? error) => OutOfSpace.Is(error)
        || OutOfSpace.Find(error, static e => e is SqliteException { SqliteErrorCode: SqliteFull } or PostgresException { SqlState: PostgresDiskFull });
}
