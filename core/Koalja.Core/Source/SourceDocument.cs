namespace Koalja.Core.Source;

/// <summary>One document of a source file (YAML documents are separated by <c>---</c>).</summary>
/// <param name="Index">0-based position of the document in its file.</param>
public sealed record SourceDocument(int Index, SourceNode Root);
