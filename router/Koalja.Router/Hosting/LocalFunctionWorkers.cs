using System.Globalization;
using System.Text;
using Koalja.Core.Spec;
using Koalja.Functions.Host;
using Koalja.Router.Dispatch;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Hosting;

/// <summary>
/// <c>koalja up --task-host functions</c>: one real Functions worker process (the task function app) per task, under
/// Koalja's own protocol host, and the router sending every snapshot to them over HTTP, as it does in the cluster.
/// </summary>
public static class LocalFunctionWorkers
{
    public const string AppVariable = "KOALJA_FUNCTIONS_APP";
    private const string AppDll = "Koalja.Functions.dll";

    /// <summary>The folder of the built task function app: the one given, <c>KOALJA_FUNCTIONS_APP</c>, next to the running program (<c>.build/functions</c> beside <c>.build/cli</c>), or in the repository's build output.</summary>
    /// <exception cref="InvalidOperationException">It is not built; the message says how to build it.</exception>
    public static string FindApp(string? given)
    {
        if ((given ?? Environment.GetEnvironmentVariable(AppVariable)) is { Length: > 0 } explicitDir)
        {
            return File.Exists(Path.Combine(explicitDir, AppDll)) ? Path.GetFullPath(explicitDir)
                : throw new InvalidOperationException($"{explicitDir} holds no {AppDll}: give the folder of the built task function app (dotnet build functions/Koalja.Functions -o DIR)");
        }

        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "..", "functions") };
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Koalja.sln")))
            {
                candidates.Add(Path.Combine(dir.FullName, "functions", "Koalja.Functions", "bin", "Release", "net10.0"));
                candidates.Add(Path.Combine(dir.FullName, "functions", "Koalja.Functions", "bin", "Debug", "net10.0"));
                break;
            }
        }

        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, AppDll))) is { } found ? Path.GetFullPath(found)
            : throw new InvalidOperationException($"--task-host functions needs the built task function app ({AppDll}); ./koalja builds it, or build it with " +
                $"'dotnet build functions/Koalja.Functions -c Release -o .build/functions' and give --functions-app .build/functions");
    }

    /// <summary>
    /// Starts a worker for each task that can run snapshots (all but FileDrops), sharing the server's store, and says how
    /// the router reaches them; null when no task runs anything (pipelines of drops only).
    /// </summary>
    internal static async Task<LocalWorkers?> StartAsync(string app, IReadOnlyList<Pipeline> pipelines, LocalServerOptions server,
        DataDirectory data, Uri routerUrl, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        var names = new Dictionary<(string Pipeline, string Task), string>();
        var workers = new List<WorkerSpec>();
        foreach (var (pipeline, task) in pipelines.SelectMany(p => p.Spec.Tasks.Where(t => t.Type != BuiltInTaskTypes.FileDrop).Select(t => (p, t)))) // a FileDrop only takes drops
        {
            var name = UniqueName($"{pipeline.Name}-{task.Name}", names.Values);
            names[(pipeline.Name, task.Name)] = name;
            var root = Path.Combine(data.Root, "functions", name);
            var environment = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["KOALJA_WORK_ROOT"] = Path.Combine(root, "work"),
                ["KOALJA_CODE_ROOT"] = Path.Combine(root, "code"),
                ["KOALJA_PASS_ENV"] = string.Join(',', server.PassEnvironment),
                ["KOALJA_SANDBOX"] = server.Sandbox.ToString().ToLowerInvariant(), // on this machine no container isolates the worker: the server's choice holds
                ["KOALJA_SANDBOX_NETWORK"] = server.SandboxNetwork ? "on" : "off",
                ["KOALJA_SANDBOX_HIDE"] = data.Root,
                ["KOALJA_COMMAND_TIMEOUT"] = ((long)Math.Ceiling(server.Runtime.CommandTimeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture),
                ["KOALJA_ROUTER_URL"] = routerUrl.ToString(),
                ["KOALJA_HOST_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            };
            if (server.Storage is { } storage)
            {
                environment["KOALJA_STORAGE"] = storage; // the store --storage names; its credentials come with the inherited environment
            }
            else if (server.Environment(Storage.StorageSettings.TypeVariable) is not { Length: > 0 })
            {
                environment["KOALJA_STORAGE"] = "local:" + data.BlobsPath; // the data directory's store
            }

            workers.Add(new WorkerSpec(name, app, environment));
        }

        if (workers.Count == 0)
        {
            return null;
        }

        var host = await LocalFunctionsHost.StartAsync(workers, new FunctionsHostOptions(), logs, cancellationToken);
        return new LocalWorkers(host, names, new HttpDispatchOptions
        {
            FunctionUrl = (pipeline, task) => host.BaseUrl(names[(pipeline, task)]),
            Timeout = server.Runtime.CommandTimeout + TimeSpan.FromMinutes(1),
        });
    }

    /// <summary>The workers of a local server: the protocol host, which worker runs which task, and how the router reaches them.</summary>
    internal sealed record LocalWorkers(LocalFunctionsHost Host, IReadOnlyDictionary<(string Pipeline, string Task), string> Names, HttpDispatchOptions Dispatch);

    /// <summary>A worker name from a pipeline and task name: lower-case letters, digits and dashes, unique.</summary>
    internal static string UniqueName(string wanted, IEnumerable<string> taken)
    {
        var name = new StringBuilder();
        foreach (var c in wanted.ToLowerInvariant())
        {
            name.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : '-');
        }

        var stem = name.ToString().Trim('-') is { Length: > 0 } s ? s[..Math.Min(s.Length, 50)] : "task";
        var candidate = stem;
        for (var i = 2; taken.Contains(candidate, StringComparer.Ordinal); i++)
        {
            candidate = $"{stem}-{i}";
        }

        return candidate;
    }
}
