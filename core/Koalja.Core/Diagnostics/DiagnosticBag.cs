using Koalja.Core.Source;

namespace Koalja.Core.Diagnostics;

/// <summary>
/// Collects the diagnostics of one document. Positions come from the document's <see cref="SourceMap"/>.
/// A field that could not be read (say, of the wrong type) is marked broken: later checks on it or
/// inside it stay silent, so one mistake is reported once.
/// </summary>
public sealed class DiagnosticBag(string file, SourceMap map)
{
    private readonly List<Diagnostic> _items = [];
    private readonly HashSet<string> _brokenPaths = new(StringComparer.Ordinal);

    public string File { get; } = file;

    public SourceMap Map { get; } = map;

    public IReadOnlyList<Diagnostic> Items => _items;

    public void Error(string code, string path, string message, string? hint = null, SourcePosition? at = null) =>
        Add(code, Severity.Error, path, message, hint, at);

    public void Warning(string code, string path, string message, string? hint = null, SourcePosition? at = null) =>
        Add(code, Severity.Warning, path, message, hint, at);

    /// <summary>Reports an error on a field that could not be read, and silences later checks of it.</summary>
    public void Broken(string code, string path, string message, string? hint = null, SourcePosition? at = null)
    {
        Add(code, Severity.Error, path, message, hint, at);
        _brokenPaths.Add(path);
    }

    public void Add(Diagnostic diagnostic) => _items.Add(diagnostic);

    private void Add(string code, Severity severity, string path, string message, string? hint, SourcePosition? at)
    {
        if (IsBroken(path))
        {
            return;
        }

        _items.Add(new Diagnostic(code, severity, message, File, at ?? Map.Locate(path), path, hint));
    }

    /// <summary>Whether the field at <paramref name="path"/>, or one around it, could not be read.</summary>
    public bool IsBroken(string path)
    {
        for (var p = path; p.Length > 0; p = SourceMap.Parent(p))
        {
            if (_brokenPaths.Contains(p))
            {
                return true;
            }
        }

        return false;
    }
}
