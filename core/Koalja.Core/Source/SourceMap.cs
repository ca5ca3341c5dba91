namespace Koalja.Core.Source;

/// <summary>
/// Where each field of a bound document was written, by path (<c>spec.tasks[1].inputs[0].typeRef</c>).
/// A field that was not written is located at the nearest enclosing object that was.
/// </summary>
public sealed class SourceMap
{
    private readonly Dictionary<string, SourcePosition> _positions = new(StringComparer.Ordinal);

    public SourcePosition DocumentStart { get; init; } = SourcePosition.Start;

    public void Add(string path, SourcePosition position) => _positions.TryAdd(path, position);

    public SourcePosition Locate(string path)
    {
        for (var p = path; ; p = Parent(p))
        {
            if (_positions.TryGetValue(p, out var position))
            {
                return position;
            }

            if (p.Length == 0)
            {
                return DocumentStart;
            }
        }
    }

    /// <summary><c>a.b[2].c</c> → <c>a.b[2]</c> → <c>a.b</c> → <c>a</c> → empty.</summary>
    public static string Parent(string path)
    {
        var cut = path.LastIndexOfAny(['.', '[']);
        return cut < 0 ? "" : path[..cut];
    }

    public static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    public static string Item(string path, int index) => $"{path}[{index}]";
}
