using System.Text.Json;
using System.Text.RegularExpressions;

namespace Koalja.Functions.Host;

/// <summary>A worker to run, checked: its name, its app folder and the dll <c>worker.config.json</c> names in it.</summary>
internal sealed partial record WorkerApp(WorkerSpec Spec, string Directory, string WorkerPath)
{
    public const int MaxNameLength = 63;

    public string Name => Spec.Name;

    /// <summary>The worker a spec describes, or why it cannot be run (the message names the worker and what to fix).</summary>
    public static (WorkerApp? App, string? Problem) Read(WorkerSpec spec)
    {
        if (spec is null)
        {
            return (null, "A worker spec is null.");
        }

        if (spec.Name is null || spec.Name.Length > MaxNameLength || !NamePattern().IsMatch(spec.Name))
        {
            return (null, $"Worker name '{spec.Name}' is not usable: use 1-{MaxNameLength} lower-case letters, digits and dashes, starting and ending with a letter or digit (it is the first segment of the worker's URLs).");
        }

        if (spec.Environment is null)
        {
            return (null, $"Worker '{spec.Name}': Environment is null; give an empty dictionary for none.");
        }

        if (string.IsNullOrEmpty(spec.AppDirectory) || !System.IO.Directory.Exists(spec.AppDirectory))
        {
            return (null, $"Worker '{spec.Name}': the app folder '{spec.AppDirectory}' does not exist; give the output folder of the built Functions app (dotnet build <app> -o DIR).");
        }

        var directory = Path.GetFullPath(spec.AppDirectory);
        var config = Path.Combine(directory, "worker.config.json");
        if (!File.Exists(config))
        {
            return (null, $"Worker '{spec.Name}': {directory} holds no worker.config.json; is it the output folder of a built isolated-worker Functions app?");
        }

        string? workerPath;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(config));
            workerPath = document.RootElement.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.Object
                && description.TryGetProperty("defaultWorkerPath", out var path) && path.ValueKind == JsonValueKind.String ? path.GetString() : null;
        }
        catch (JsonException e)
        {
            return (null, $"Worker '{spec.Name}': {config} is not JSON: {e.Message}");
        }

        if (string.IsNullOrEmpty(workerPath))
        {
            return (null, $"Worker '{spec.Name}': {config} names no description.defaultWorkerPath (the app's dll).");
        }

        var dll = Path.GetFullPath(Path.Combine(directory, workerPath));
        if (!File.Exists(dll))
        {
            return (null, $"Worker '{spec.Name}': {dll}, which worker.config.json names, does not exist; build the app again.");
        }

        if (!File.Exists(Path.Combine(directory, "functions.metadata")))
        {
            return (null, $"Worker '{spec.Name}': {directory} holds no functions.metadata; is it built with Microsoft.Azure.Functions.Worker.Sdk?");
        }

        return (new WorkerApp(spec, directory, dll), null);
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
