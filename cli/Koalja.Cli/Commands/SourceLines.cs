namespace Koalja.Cli.Commands;

/// <summary>Lines of a source file, read lazily, for showing the line an error points at.</summary>
internal sealed class SourceLines(string file)
{
    private const int MaxShownLength = 160;
    private string[]? _lines;

    public string? Get(int line)
    {
        _lines ??= Read();
        if (line < 1 || line > _lines.Length)
        {
            return null;
        }

        var text = _lines[line - 1].TrimEnd('\r');
        return text.Length > MaxShownLength || text.Any(c => char.IsControl(c) && c != '\t') ? null : text.Replace('\t', ' ');
    }

    private string[] Read()
    {
        try
        {
            var info = new FileInfo(file);
            return info.Exists && info.Length <= Core.Source.SourceLimits.MaxFileBytes ? File.ReadAllLines(file) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
