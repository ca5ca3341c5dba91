using Koalja.Testing;
using Xunit.Abstractions;

namespace Koalja.Cluster.Tests;

/// <summary>
/// A fact that needs a real Kubernetes node: skipped, with the reason <c>infra/dev-cluster/node check</c> gives, on a
/// machine that cannot run containers (not root, no overlay filesystem, no cgroups).
/// </summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (DevCluster.CannotRun is { } why)
        {
            Skip = "This machine cannot run a Kubernetes node: " + why;
        }
    }
}

/// <summary>A real single-node Kubernetes with Koalja installed (<see cref="DevCluster"/>) for the whole test class, Secrets in <see cref="Namespace"/>.</summary>
public sealed class Node : IAsyncLifetime
{
    public const string Namespace = "e2e";

    internal DevCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (DevCluster.CannotRun is null)
        {
            Cluster = await DevCluster.StartAsync([Namespace]);
        }
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }

    public void Report(ITestOutputHelper output) => output.WriteLine(Cluster.Timings.ToString());
}
