using Koalja.Core.Source;
using Koalja.Core.Spec;

namespace Koalja.Core.Loading;

/// <summary>A pipeline read from a file, with where each of its fields was written.</summary>
public sealed record LoadedPipeline(Pipeline Pipeline, string File, int DocumentIndex, SourceMap Map);
