using System.Collections;

namespace Koalja.Tasks;

/// <summary>
/// The environment a command starts with, before Koalja's own variables and the task's <c>env</c>: never the whole
/// environment of the server (or the task function), which holds its credentials (<c>S3_SECRET_KEY</c>,
/// <c>PGPASSWORD</c>, connection strings), but only what finds programs and libraries and sets the locale
/// (<see cref="Passed"/>), and the variables the operator names (<c>koalja up --pass-env</c>, <c>KOALJA_PASS_ENV</c>).
/// </summary>
public static class CommandEnvironment
{
    /// <summary>Passed when set: how programs, interpreters and their libraries are found, who runs, the locale and time zone.</summary>
    public static readonly IReadOnlyList<string> Passed =
    [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
        "LD_LIBRARY_PATH", "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYTHONPATH", "PYTHONHOME", "R_HOME", "R_LIBS", "R_LIBS_USER",
        "JAVA_HOME", "GOPATH", "GOROOT", "NODE_PATH", "DOTNET_ROOT", "JULIA_DEPOT_PATH", "PERL5LIB", "GEM_HOME", "GEM_PATH",
    ];

    /// <summary>What of <paramref name="from"/> a command gets: <see cref="Passed"/>, every <c>LC_*</c>, and <paramref name="alsoPassed"/>.</summary>
    public static IReadOnlyDictionary<string, string> From(IDictionary from, IEnumerable<string> alsoPassed)
    {
        ArgumentNullException.ThrowIfNull(from);
        var names = new HashSet<string>(Passed.Concat(alsoPassed), StringComparer.Ordinal);
        var passed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in from)
        {
            if (entry is { Key: string name, Value: string value } && (names.Contains(name) || name.StartsWith("LC_", StringComparison.Ordinal)))
            {
                passed[name] = value;
            }
        }

        return passed;
    }

    /// <summary>What names <c>KOALJA_PASS_ENV</c> or <c>--pass-env</c> may give: variable names, not values or patterns.</summary>
    public static bool IsName(string name) =>
        name.Length is > 0 and <= 128 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
