using System.Globalization;
using Koalja.Storage;
using Koalja.Tasks;
using Koalja.Tasks.Sandboxing;

namespace Koalja.Functions;

/// <summary>A worker setting is missing or malformed; the message names it and what would work.</summary>
public sealed class WorkerSettingsException(string message) : Exception(message);

/// <summary>
/// The task function's settings, all from environment variables (a container has nothing else):
/// <list type="bullet">
/// <item>where values are stored: <c>KOALJA_STORAGE</c> (a URL, as <c>koalja up --storage</c> takes it), else <c>STORAGETYPE</c> and its variables, as <c>koalja up</c> reads them
/// (<c>KOALJA_LOCAL_PATH</c>, <c>S3_*</c>, <c>AZURE_STORAGE_*</c>); the router and its task functions must share one store;</item>
/// <item><c>KOALJA_WORK_ROOT</c>: where executions get their directories (default: a folder under the temp directory);</item>
/// <item><c>KOALJA_CODE_ROOT</c>: where dropped code is unpacked, fetched from the store by its hash (default: <c>code</c> under the work root);</item>
/// <item><c>KOALJA_COMMAND_TIMEOUT</c>: a command running longer is killed (seconds, or a time span such as <c>00:10:00</c>; default 10 minutes);</item>
/// <item><c>KOALJA_ROUTER_URL</c>: the router's API, for the content URLs a sink sends (default: <c>sha256:</c> URIs);</item>
/// <item><c>KOALJA_WORKER_NAME</c>: who runs the executions, reported in each answer and recorded as the execution's worker (the operator sets the task pod's name);</item>
/// <item><c>KOALJA_HOST_PID</c>: a local protocol host's process; the worker ends when it is gone.</item>
/// </list>
/// </summary>
public sealed record WorkerSettings(TaskRuntimeOptions Runtime, string? Storage, string LocalStorePath, int? HostProcessId)
{
    /// <exception cref="WorkerSettingsException">A setting is missing or malformed; the message names it.</exception>
    public static WorkerSettings From(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Env(string name) => environment(name) is { Length: > 0 } value ? value : null;
        var storage = Env("KOALJA_STORAGE");
        var storageType = Env(StorageSettings.TypeVariable);
        var localPath = Env("KOALJA_LOCAL_PATH");
        if (storage is null && storageType is null && localPath is null)
        {
            throw new WorkerSettingsException(
                "The task function reads and writes values in the router's store: set KOALJA_STORAGE (a storage URL as koalja up --storage takes), or STORAGETYPE (local, s3 or azure) and its variables, or KOALJA_LOCAL_PATH for a local directory.");
        }

        if (storage is null && storageType is null or "local" && localPath is null)
        {
            throw new WorkerSettingsException("STORAGETYPE=local needs KOALJA_LOCAL_PATH, the directory the router stores values in.");
        }

        var workRoot = Env("KOALJA_WORK_ROOT") ?? Path.Combine(Path.GetTempPath(), $"koalja-work-{Environment.ProcessId}");
        var routerUrl = Env("KOALJA_ROUTER_URL") is { } url
            ? Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" ? parsed
                : throw new WorkerSettingsException($"KOALJA_ROUTER_URL '{url}' is not an http(s) URL of the router's API.")
            : null;
        var runtime = new TaskRuntimeOptions
        {
            WorkRoot = workRoot,
            CodeRoot = Env("KOALJA_CODE_ROOT"),
            WorkerName = Env("KOALJA_WORKER_NAME"),
            CommandTimeout = Env("KOALJA_COMMAND_TIMEOUT") is { } timeout ? ParseTimeout(timeout) : TimeSpan.FromMinutes(10),
            PassEnvironment = Env("KOALJA_PASS_ENV") is { } passed ? ParsePassed(passed) : [],
            // In a cluster the task's container is the sandbox; koalja up's local workers ask for one.
            Sandbox = Env("KOALJA_SANDBOX") switch
            {
                null or "off" => SandboxMode.Off,
                "auto" => SandboxMode.Auto,
                "required" => SandboxMode.Required,
                var other => throw new WorkerSettingsException($"KOALJA_SANDBOX '{other}' is not one of off (the default), auto, required."),
            },
            SandboxNetwork = Env("KOALJA_SANDBOX_NETWORK") switch
            {
                null or "on" => true,
                "off" => false,
                var other => throw new WorkerSettingsException($"KOALJA_SANDBOX_NETWORK '{other}' is not on (the default) or off."),
            },
            SandboxHides = Env("KOALJA_SANDBOX_HIDE") is { } hides ? hides.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [],
            ContentUrl = routerUrl is null ? null : id => new Uri(routerUrl, $"/api/values/{Uri.EscapeDataString(id)}/content"),
        };
        var hostPid = Env("KOALJA_HOST_PID") is { } pid
            ? int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0 ? p
                : throw new WorkerSettingsException($"KOALJA_HOST_PID '{pid}' is not a process id.")
            : (int?)null;
        return new WorkerSettings(runtime, storage, localPath ?? Path.Combine(workRoot, "store"), hostPid);
    }

    private static string[] ParsePassed(string text)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return names.FirstOrDefault(n => !CommandEnvironment.IsName(n)) is { } bad
            ? throw new WorkerSettingsException($"KOALJA_PASS_ENV '{text}' is not a comma-separated list of variable names: '{bad}' is not one.")
            : names;
    }

    private static TimeSpan ParseTimeout(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds)
        : TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero ? span
        : throw new WorkerSettingsException($"KOALJA_COMMAND_TIMEOUT '{text}' is not a duration: give seconds (600) or a time span (00:10:00).");
}
