using Koalja.Operator.Runtime;

namespace Koalja.Operator.Hosting;

/// <summary>Settings of <c>koalja up</c>.</summary>
public sealed record LocalServerOptions
{
    /// <summary>Holds the registry, the stored content and working directories; a restart with the same directory resumes.</summary>
    public string DataDirectory { get; init; } = ".koalja";

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    public RuntimeOptions Runtime { get; init; } = new();
}
