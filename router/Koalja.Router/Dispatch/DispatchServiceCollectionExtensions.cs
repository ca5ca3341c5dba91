using Koalja.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Koalja.Router.Dispatch;

/// <summary>Composes the HTTP dispatcher into a host.</summary>
public static class DispatchServiceCollectionExtensions
{
    /// <summary>
    /// Every snapshot goes over HTTP to its task's function (<see cref="HttpTaskFunctions"/>), replacing the in-process
    /// task function as the router's <see cref="ITaskRunner"/>. Call it after <c>AddKoaljaTaskRuntime</c>.
    /// </summary>
    /// <exception cref="OptionsValidationException">A setting is out of bounds; the message names each.</exception>
    public static IServiceCollection AddKoaljaHttpDispatch(this IServiceCollection services, HttpDispatchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validated.Check(options, options.Problems());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new HttpTaskFunctions(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectTimeout = TimeSpan.FromSeconds(10) })
            {
                Timeout = Timeout.InfiniteTimeSpan, // each request has its own (HttpDispatchOptions.Timeout)
            },
            options, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<HttpTaskFunctions>>()));
        services.Replace(ServiceDescriptor.Singleton<ITaskRunner>(sp => sp.GetRequiredService<HttpTaskFunctions>()));
        return services;
    }
}
