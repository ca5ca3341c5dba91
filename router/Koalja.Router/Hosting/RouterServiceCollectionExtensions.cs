using Koalja.Core.Spec;
using Koalja.Router.Api;
using Koalja.Router.Events;
using Koalja.Router.Runtime;
using Koalja.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Koalja.Router.Hosting;

/// <summary>
/// Composes the router into a host in the style of the .NET hosting model: <c>koalja up</c> is
/// <c>AddKoaljaStorage</c> + <c>AddKoaljaRegistry</c> + <c>AddKoaljaTaskRuntime</c> + <c>AddKoaljaRouter</c> + <c>MapKoaljaApi</c>.
/// </summary>
public static class RouterServiceCollectionExtensions
{
    /// <summary>
    /// The registry as <see cref="RegistrySettings"/> chooses it (<paramref name="setting"/>, else <c>KOALJA_REGISTRY</c>, else SQLite at
    /// <paramref name="defaultSqlitePath"/>); opened when the host starts, which fails with a <see cref="Hosting.BackendException"/> naming the setting.
    /// </summary>
    public static IServiceCollection AddKoaljaRegistry(this IServiceCollection services, string? setting, Func<string, string?> environment, string defaultSqlitePath)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return services.AddSingleton(_ => RegistrySettings.Open(setting, environment, defaultSqlitePath));
    }

    /// <summary>
    /// The router over <paramref name="pipelines"/>, run as a hosted service (started with the host: leases taken, state rebuilt,
    /// unfinished snapshots dispatched; stopped with it), with its event ingress. Needs a registry, a store and a task runner
    /// (<see cref="AddKoaljaRegistry"/>, <c>AddKoaljaStorage</c>, <c>AddKoaljaTaskRuntime</c>); uses the registered <see cref="TimeProvider"/>.
    /// </summary>
    /// <param name="inspectOnly">
    /// Route nothing: show the registry's pipelines as they were left (<see cref="PipelineRouter.Inspect"/>) for reading
    /// while no server runs them; <paramref name="pipelines"/> is then ignored.
    /// </param>
    /// <exception cref="OptionsValidationException">A setting is out of bounds; the message names each.</exception>
    public static IServiceCollection AddKoaljaRouter(this IServiceCollection services, RuntimeOptions options, IReadOnlyList<Pipeline> pipelines, bool inspectOnly = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pipelines);
        Validated.Check(options, options.Problems());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton<PipelineRouter>();
        services.AddSingleton<Api.RouterMetrics>();
        services.AddSingleton<DataRefFetcher>();
        services.AddSingleton<EventIngress>();
        services.AddHostedService(sp =>
        {
            _ = sp.GetRequiredService<Api.RouterMetrics>(); // counting from the start, not from the first scrape
            return new RouterService(sp.GetRequiredService<PipelineRouter>(), inspectOnly ? null : pipelines);
        });
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        return services;
    }

    /// <summary>Starts the router with the host and stops it (dispatchers drained, leases given back) when the host stops.</summary>
    private sealed class RouterService(PipelineRouter router, IReadOnlyList<Pipeline>? pipelines) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (pipelines is null)
            {
                router.Inspect();
            }
            else
            {
                router.Start(pipelines);
            }

            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken) => await router.DisposeAsync();
    }
}
