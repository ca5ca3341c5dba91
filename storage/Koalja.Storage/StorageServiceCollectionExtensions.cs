using Microsoft.Extensions.DependencyInjection;

namespace Koalja.Storage;

/// <summary>Composes a value store into a host.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <paramref name="store"/> (opened with <see cref="StorageSettings.OpenAsync"/>, which checks it can be reached) as the
    /// host's <see cref="IArtifactStore"/>; the host disposes it when it stops.
    /// </summary>
    public static IServiceCollection AddKoaljaStorage(this IServiceCollection services, IArtifactStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return services.AddSingleton(_ => store); // a factory, so that the container owns and disposes it
    }
}
