using System.Text.Json;
using Koalja.Core.Spec;

namespace Koalja.Cli.Commands;

/// <summary>The <c>--task-urls</c> file: a JSON object from task name (or <c>pipeline/task</c>) to its function's URL.</summary>
internal static class TaskUrls
{
    public static (IReadOnlyDictionary<(string Pipeline, string Task), Uri>? Urls, string? Problem) Read(string file, IReadOnlyList<Pipeline> pipelines)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            root = document.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return (null, e.Message);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, "it must be a JSON object of task name to URL");
        }

        var urls = new Dictionary<(string, string), Uri>();
        var problems = new List<string>();
        foreach (var entry in root.EnumerateObject())
        {
            var slash = entry.Name.IndexOf('/', StringComparison.Ordinal);
            var (pipeline, task) = slash >= 0 ? (entry.Name[..slash], entry.Name[(slash + 1)..])
                : pipelines.Count == 1 ? (pipelines[0].Name, entry.Name) : ("", entry.Name);
            if (pipeline.Length == 0)
            {
                problems.Add($"'{entry.Name}': with several pipelines, name tasks as pipeline/task");
            }
            else if (pipelines.FirstOrDefault(p => p.Name == pipeline)?.Spec.TaskByName(task) is null)
            {
                problems.Add($"'{entry.Name}' is no task of the pipelines given");
            }
            else if (entry.Value.ValueKind != JsonValueKind.String || !Uri.TryCreate(entry.Value.GetString(), UriKind.Absolute, out var url))
            {
                problems.Add($"'{entry.Name}': the URL must be an absolute URL string");
            }
            else
            {
                urls[(pipeline, task)] = url;
            }
        }

        return problems.Count > 0 ? (null, string.Join("; ", problems)) : (urls, null);
    }
}
