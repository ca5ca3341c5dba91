namespace Koalja.Functions.Host;

/// <summary>
/// One Functions worker to run: <paramref name="Name"/> is ours to choose (lower-case letters, digits and dashes; it is
/// the first segment of the worker's URLs), <paramref name="AppDirectory"/> the built isolated-worker app (the folder
/// holding <c>worker.config.json</c>, <c>functions.metadata</c> and the dll <c>worker.config.json</c> names), and
/// <paramref name="Environment"/> variables the worker process gets on top of the host's own.
/// </summary>
public sealed record WorkerSpec(string Name, string AppDirectory, IReadOnlyDictionary<string, string> Environment);
