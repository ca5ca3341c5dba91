using Koalja.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Koalja.Tasks;

/// <summary>Composes the task runtime into a host: <c>koalja up</c> and the Functions app call the same method.</summary>
public static class TaskServiceCollectionExtensions
{
    /// <summary>
    /// The task runtime (<see cref="TaskRuntime"/>, its <see cref="CodeCache"/>), the contract's task side (<see cref="TaskHost"/>)
    /// and, as <see cref="ITaskRunner"/>, the in-process task function that reaches it through the contract. Needs an
    /// <see cref="IArtifactStore"/> (<c>AddKoaljaStorage</c>); uses the registered <see cref="TimeProvider"/> (the system's if none).
    /// </summary>
    /// <exception cref="OptionsValidationException">A setting is out of bounds; the message names each.</exception>
    public static IServiceCollection AddKoaljaTaskRuntime(this IServiceCollection services, TaskRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validated.Check(options, options.Problems());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp => new TaskRuntime(sp.GetRequiredService<IArtifactStore>(), options, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => sp.GetRequiredService<TaskRuntime>().Code);
        services.AddSingleton(sp => new TaskHost(sp.GetRequiredService<TaskRuntime>(), sp.GetRequiredService<TimeProvider>(), options.WorkerName));
        services.AddSingleton<ITaskRunner>(sp => new InProcessTaskFunction(sp.GetRequiredService<TaskHost>()));
        return services;
    }
}

/// <summary>Settings checked when a host is composed, so that a bad one stops it before anything runs.</summary>
public static class Validated
{
    /// <exception cref="OptionsValidationException">There are problems; the message lists them all.</exception>
    public static void Check<T>(T options, IReadOnlyList<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(typeof(T).Name, typeof(T), problems.Select(p => $"{typeof(T).Name}: {p}"));
        }
    }
}
