namespace Koalja.Functions.Host;

/// <summary>The worker's stream closed (its process exited, was killed, or the host stopped) while a request waited for its answer.</summary>
internal sealed class WorkerGoneException(string message) : Exception(message);
