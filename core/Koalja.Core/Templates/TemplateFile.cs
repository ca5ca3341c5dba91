namespace Koalja.Core.Templates;

/// <summary>Where one input value or output lives for an execution: a path relative to the working directory.</summary>
/// <param name="Path">Relative to the execution's working directory, e.g. <c>inputs/inputFile/0</c>; never built from user-supplied names.</param>
public sealed record TemplateFile(string Path, string? Uri = null, string? ValueId = null, string? Sha256 = null, long Size = 0)
{
    public IReadOnlyDictionary<string, object?> ToData()
    {
        var data = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["path"] = Path,
            ["base"] = System.IO.Path.GetFileName(Path),
            ["dir"] = System.IO.Path.GetDirectoryName(Path) ?? "",
        };
        if (ValueId is not null)
        {
            data["id"] = ValueId;
            data["uri"] = Uri;
            data["sha256"] = Sha256;
            data["size"] = Size;
        }

        return data;
    }
}
