using Koalja.Functions.Host;
using Koalja.Testing;

namespace Koalja.Functions.Tests;

/// <summary>The real task function app (functions/Koalja.Functions), built with this test project, and worker specs for it.</summary>
internal static class TaskFunctionApp
{
    /// <summary>The app's build output folder, for the configuration these tests were built in.</summary>
    public static string Directory { get; } = Find();

    /// <summary>A worker of the app with its own local store and work directory under <paramref name="root"/>.</summary>
    public static WorkerSpec Worker(string name, string root) => new(name, Directory, new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["KOALJA_STORAGE"] = "local:" + StorePath(root),
        ["KOALJA_WORK_ROOT"] = Path.Combine(root, "work"),
    });

    public static string StorePath(string root) => Path.Combine(root, "store");

    private static string Find()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var directory = Path.Combine(Repository.Root, "functions", "Koalja.Functions", "bin", configuration, "net10.0");
        return File.Exists(Path.Combine(directory, "Koalja.Functions.dll")) && File.Exists(Path.Combine(directory, "functions.metadata"))
            ? directory
            : throw new InvalidOperationException($"The task function app is not built in {directory}: build this test project (it references functions/Koalja.Functions), or 'dotnet build functions/Koalja.Functions -c {configuration}'.");
    }
}
