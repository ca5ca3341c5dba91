using Microsoft.Extensions.Hosting;

namespace Koalja.Functions.Host;

/// <summary>
/// The embedded web app's lifetime is its owner's (<see cref="LocalFunctionsHost.DisposeAsync"/>): unlike the
/// default console lifetime it does not stop on Ctrl+C or SIGTERM on its own, ahead of the drain.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
