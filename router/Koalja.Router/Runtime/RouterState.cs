using Koalja.Router.Registry;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Runtime;

/// <summary>What the router's parts share: the registry and the loop's writer, the served pipelines, the settings and the clock.</summary>
internal sealed class RouterState(Registry.Registry registry, RuntimeOptions options, TimeProvider time, ILogger log) : IDisposable
{
    private RegistryWriter? _writer;

    public Registry.Registry Registry => registry;

    public RuntimeOptions Options => options;

    public TimeProvider Time => time;

    public ILogger Log => log;

    public Dictionary<string, PipelineRuntime> Pipelines { get; } = new(StringComparer.Ordinal);

    /// <summary>The router loop's own connection and transaction; opened at start.</summary>
    public RegistryWriter Writer => _writer ?? throw new InvalidOperationException("The router has not started.");

    public bool Started => _writer is not null;

    public RegistryWriter Open() => _writer = new RegistryWriter(registry, registry.Open());

    public void Dispose()
    {
        if (_writer is not null)
        {
            _writer.Connection.Dispose();
            _writer.Dispose();
        }
    }
}
