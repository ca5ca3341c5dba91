namespace Koalja.Core.Source;

/// <summary>Bounds that keep a hostile file from exhausting memory or the stack.</summary>
public static class SourceLimits
{
    /// <summary>Largest pipeline file accepted. Kubernetes stores objects of at most 1.5 MiB.</summary>
    public const int MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>Deepest nesting of mappings and lists.</summary>
    public const int MaxDepth = 100;

    /// <summary>Most nodes a document may stand for once YAML aliases are expanded.</summary>
    public const long MaxExpandedNodes = 1_000_000;
}
