using System.Data.Common;
using System.Globalization;

namespace Koalja.Router.Registry;

/// <summary>Reading columns and adding parameters the same way on both engines (PostgreSQL's integers are BIGINT, SQLite's 64-bit INTEGER).</summary>
internal static class Rows
{
    public const string ValueColumnList = "id, pipeline, task, output, output_index, sha256, size, media_type, created_at, revision, code_version, snapshot_id, execution_id, source_name, seq, shadow";

    private static readonly string[] ValueColumnNames = ValueColumnList.Split(", ");

    /// <summary>The value columns, each prefixed with <paramref name="alias"/>, in the order <see cref="Value"/> reads them.</summary>
    public static string ValueColumns(string alias) => string.Join(", ", ValueColumnNames.Select(c => $"{alias}.{c}"));

    /// <summary>A value whose <see cref="ValueColumnList"/> starts at column <paramref name="o"/>.</summary>
    public static ValueRecord Value(DbDataReader r, int o = 0) => new(
        r.GetString(o), r.GetString(o + 1), r.GetString(o + 2), r.GetString(o + 3), Int(r, o + 4), r.GetString(o + 5), Long(r, o + 6), r.GetString(o + 7),
        Time(r, o + 8), r.GetString(o + 9), Str(r, o + 10), Str(r, o + 11), Str(r, o + 12), Str(r, o + 13), Long(r, o + 14), Long(r, o + 15) != 0);

    public static int Int(DbDataReader r, int i) => checked((int)Long(r, i));

    public static int? IntOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : Int(r, i);

    /// <summary>An integer column: 64-bit in SQLite, BIGINT in PostgreSQL (whose provider also widens int4 and converts numeric).</summary>
    public static long Long(DbDataReader r, int i) => r.GetInt64(i);

    public static string? Str(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    /// <summary>Times are stored as ISO 8601 text in UTC ("O"), which sorts and compares as time on both engines.</summary>
    public static DateTimeOffset Time(DbDataReader r, int i)
    {
        var text = r.GetString(i);
        return DateTimeOffset.TryParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time)
            ? time
            : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
    }

    public static string Text(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    /// <summary>Adds a parameter; times become their stored text, null becomes NULL.</summary>
    public static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = ToParameter(value);
        command.Parameters.Add(parameter);
    }

    public static object ToParameter(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset time => Text(time),
        var v => v,
    };
}
