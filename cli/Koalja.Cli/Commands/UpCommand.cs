using System.CommandLine;
using System.Runtime.InteropServices;
using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;
using Koalja.Tasks;
using Koalja.Tasks.Sandboxing;
using Microsoft.Extensions.Logging;

namespace Koalja.Cli.Commands;

/// <summary><c>koalja up FILE...</c>: runs pipelines on this machine until Ctrl+C.</summary>
internal static class UpCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("files") { Description = "Pipeline files to run", Arity = ArgumentArity.OneOrMore };
        var port = new Option<int>("--port") { Description = "HTTP port on 127.0.0.1 (default: a free one)" };
        var data = new Option<string>("--data") { Description = "Data directory: registry, stored values, logs (a restart with the same directory resumes)", DefaultValueFactory = _ => ".koalja" };
        var attempts = new Option<int>("--max-attempts") { Description = "Executions of a snapshot before it is dead-lettered", DefaultValueFactory = _ => 3 };
        var retryDelay = new Option<double>("--retry-delay") { Description = "Seconds before the first retry (doubling after)", DefaultValueFactory = _ => 1.0 };
        var slots = new Option<int?>("--slots") { Description = "Parallel executions per AllNew task (default: the number of cores)" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds an execution may run", DefaultValueFactory = _ => 600.0 };
        var maxDrop = new Option<long>("--max-drop") { Description = "Largest drop in bytes (also a binary-mode event's or a dataref's data)", DefaultValueFactory = _ => 1L << 30 };
        var maxEvent = new Option<long>("--max-event") { Description = "Largest structured-mode or batch CloudEvents request in bytes", DefaultValueFactory = _ => 1L << 20 };
        var verbose = new Option<bool>("--verbose") { Description = "Also log every HTTP request and the web server's own messages (each execution is logged anyway)" };
        var listen = new Option<string>("--listen") { Description = "Address to listen on; anything but loopback makes every request need a key", DefaultValueFactory = _ => "127.0.0.1" };
        var storage = new Option<string?>("--storage") { Description = "Where values are stored: local:PATH, s3://BUCKET/PREFIX?endpoint=URL, azblob://CONTAINER/PREFIX (default: STORAGETYPE, else the data directory)" };
        var registry = new Option<string?>("--registry") { Description = "The registry: postgres://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:PATH (default: KOALJA_REGISTRY, else SQLite in the data directory)" };
        var allowHost = new Option<string[]>("--allow-host") { Description = "A host name the server answers to besides localhost and its addresses", AllowMultipleArgumentsPerToken = false };
        var datarefAllow = new Option<string[]>("--dataref-allow")
        {
            Description = "A CIDR range, address or host name an event's dataref may be fetched from besides public addresses (loopback, private and link-local ones are refused otherwise)",
            AllowMultipleArgumentsPerToken = false,
        };
        var taskHost = new Option<string>("--task-host")
        {
            Description = "Where tasks run: inprocess; functions (a Functions worker process per task, reached over HTTP, as in the cluster); remote (task functions elsewhere, at --task-urls)",
            DefaultValueFactory = _ => "inprocess",
        };
        taskHost.AcceptOnlyFromAmong("inprocess", "functions", "remote");
        var taskUrls = new Option<string?>("--task-urls") { Description = "For --task-host remote: a JSON file {\"task\": \"http://…/\"} (or \"pipeline/task\" keys) naming each task's function" };
        var taskDiscovery = new Option<string>("--task-discovery")
        {
            Description = "For --task-host remote: how a task URL's host becomes its replicas: dns, or kubernetes (the Service's Endpoints, read with the pod's service account or the kubeconfig)",
            DefaultValueFactory = _ => "dns",
        };
        taskDiscovery.AcceptOnlyFromAmong("dns", "kubernetes");
        var scalerPort = new Option<int?>("--scaler-port") { Description = "Serve KEDA's external scaler (gRPC, plaintext HTTP/2) on this port (0: a free one); off by default" };
        var slotCooldown = new Option<double>("--slot-cooldown") { Description = "Seconds a task's worker slot waits without work before it retires", DefaultValueFactory = _ => 30.0 };
        var functionsApp = new Option<string?>("--functions-app") { Description = "The built task function app for --task-host functions (default: KOALJA_FUNCTIONS_APP, else the one ./koalja builds)" };
        var passEnv = new Option<string[]>("--pass-env")
        {
            Description = "A variable of this environment that commands get too (they get only PATH, HOME, the locale and language runtimes' paths otherwise, never credentials)",
            AllowMultipleArgumentsPerToken = false,
        };
        var sandbox = new Option<string>("--sandbox")
        {
            Description = "Run commands in a sandbox per worker slot (bubblewrap): auto (where it can be made, else a warning), on (refuse to start without), off",
            DefaultValueFactory = _ => "auto",
        };
        sandbox.AcceptOnlyFromAmong("auto", "on", "off");
        var sandboxNetwork = new Option<string>("--sandbox-network")
        {
            Description = "Whether sandboxed commands may use the network: on, or off (a loopback of their own only: not even this server)",
            DefaultValueFactory = _ => "on",
        };
        sandboxNetwork.AcceptOnlyFromAmong("on", "off");
        var command = new Command("up", "Run pipelines on this machine, with an HTTP API on 127.0.0.1")
        {
            files, port, data, attempts, retryDelay, slots, slotCooldown, timeout, maxDrop, maxEvent, verbose, listen, allowHost, datarefAllow, storage, registry, taskHost, functionsApp,
            scalerPort, taskUrls, taskDiscovery, passEnv, sandbox, sandboxNetwork,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string? pendingUrls = null;
            // A value out of range is refused with what is allowed, never quietly replaced.
            var refused = new[]
            {
                parse.GetValue(port) is < 0 or > 65535 ? $"--port {parse.GetValue(port)} is not a port (1 to 65535; leave it out for a free one)" : null,
                parse.GetValue(attempts) is < 1 or > 1000 ? $"--max-attempts {parse.GetValue(attempts)}: 1 to 1000 executions of a snapshot" : null,
                Seconds(parse.GetValue(retryDelay), 0, 86_400) ? null : $"--retry-delay {parse.GetValue(retryDelay)}: 0 to 86400 seconds",
                parse.GetValue(slots) is < 1 or > 1024 ? $"--slots {parse.GetValue(slots)}: 1 to 1024 parallel executions per task" : null,
                Seconds(parse.GetValue(slotCooldown), 0, 86_400) ? null : $"--slot-cooldown {parse.GetValue(slotCooldown)}: 0 to 86400 seconds",
                Seconds(parse.GetValue(timeout), 1, 7 * 86_400) ? null : $"--timeout {parse.GetValue(timeout)}: 1 to 604800 seconds an execution may run",
                parse.GetValue(maxDrop) < 1 ? $"--max-drop {parse.GetValue(maxDrop)}: at least 1 byte" : null,
                parse.GetValue(maxEvent) < 1 ? $"--max-event {parse.GetValue(maxEvent)}: at least 1 byte" : null,
            }.Concat(new RuntimeOptions { DataRefAllow = parse.GetValue(datarefAllow) ?? [] }.Problems()).OfType<string>().ToList();
            if (refused.Count > 0)
            {
                refused.ForEach(r => stderr.WriteLine("koalja: " + r));
                return 1;
            }

            var runtime = new RuntimeOptions
            {
                MaxAttempts = parse.GetValue(attempts),
                RetryDelay = TimeSpan.FromSeconds(parse.GetValue(retryDelay)),
                SlotsPerTask = parse.GetValue(slots) ?? Environment.ProcessorCount,
                SlotCooldown = TimeSpan.FromSeconds(parse.GetValue(slotCooldown)),
                CommandTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                MaxDropBytes = parse.GetValue(maxDrop),
                MaxEventBytes = parse.GetValue(maxEvent),
                DataRefAllow = parse.GetValue(datarefAllow) ?? [],
            };
            if (!System.Net.IPAddress.TryParse(parse.GetValue(listen), out var address))
            {
                stderr.WriteLine($"koalja: --listen '{parse.GetValue(listen)}' is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)");
                return 1;
            }

            var options = new LocalServerOptions
            {
                DataDirectory = parse.GetValue(data)!,
                Port = parse.GetValue(port),
                Runtime = runtime,
                ListenAddress = address,
                AllowedHosts = parse.GetValue(allowHost) ?? [],
                Storage = parse.GetValue(storage),
                Registry = parse.GetValue(registry),
                TaskHost = parse.GetValue(taskHost) switch { "functions" => LocalTaskHost.Functions, "remote" => LocalTaskHost.Remote, _ => LocalTaskHost.InProcess },
                FunctionsApp = parse.GetValue(functionsApp),
                ScalerPort = parse.GetValue(scalerPort),
                PassEnvironment = parse.GetValue(passEnv) ?? [],
                Sandbox = parse.GetValue(sandbox) switch { "on" => SandboxMode.Required, "off" => SandboxMode.Off, _ => SandboxMode.Auto },
                SandboxNetwork = parse.GetValue(sandboxNetwork) != "off",
            };
            if (options.TaskHost == LocalTaskHost.Remote || parse.GetValue(taskUrls) is not null)
            {
                if (options.TaskHost != LocalTaskHost.Remote || parse.GetValue(taskUrls) is not { } urlsFile)
                {
                    stderr.WriteLine("koalja: --task-host remote and --task-urls FILE go together");
                    return 1;
                }

                options = options with { TaskUrls = new Dictionary<(string, string), Uri>() };
                pendingUrls = urlsFile;
            }

            if (options.ScalerPort is < 0 or > 65535)
            {
                stderr.WriteLine($"koalja: --scaler-port {options.ScalerPort} is not a port (0 to 65535; 0 picks a free one)");
                return 1;
            }

            if (parse.GetValue(taskDiscovery) != "kubernetes")
            {
                return await RunAsync(parse.GetValue(files)!, options, pendingUrls, parse.GetValue(verbose), stdout, stderr, cancellationToken);
            }

            if (options.TaskHost != LocalTaskHost.Remote)
            {
                stderr.WriteLine("koalja: --task-discovery kubernetes goes with --task-host remote");
                return 1;
            }

            k8s.KubernetesClientConfiguration config;
            try
            {
                config = k8s.KubernetesClientConfiguration.IsInCluster() ? k8s.KubernetesClientConfiguration.InClusterConfig() : k8s.KubernetesClientConfiguration.BuildDefaultConfig();
            }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"koalja: --task-discovery kubernetes: no usable Kubernetes configuration: {e.Message}");
                return 1;
            }

            using var logs = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b
                .AddKoaljaConsole()
                .AddFilter("System.Net.Http", Microsoft.Extensions.Logging.LogLevel.Warning));
            using var kube = new k8s.Kubernetes(config);
            await using var endpoints = new Koalja.Operator.Controller.TaskEndpoints(kube, logs, TimeProvider.System);
            options = options with { ResolveReplicas = endpoints.ResolveAsync };
            return await RunAsync(parse.GetValue(files)!, options, pendingUrls, parse.GetValue(verbose), stdout, stderr, cancellationToken);
        });
        return command;
    }

    private static bool Seconds(double value, double min, double max) => double.IsFinite(value) && value >= min && value <= max;

    private static async Task<int> RunAsync(string[] files, LocalServerOptions options, string? taskUrlsFile, bool verbose, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var pipelines = new List<Pipeline>();
        var failed = false;
        foreach (var result in files.Select(PipelineLoader.LoadFile))
        {
            ValidateCommand.WriteDiagnostics(result, result.Diagnostics.Where(d => d.Severity != Severity.Note), stderr);

            failed |= !result.Succeeded;
            pipelines.AddRange(result.Pipelines.Select(p => p.Pipeline));
        }

        foreach (var duplicate in pipelines.GroupBy(p => p.Name).Where(g => g.Count() > 1))
        {
            stderr.WriteLine($"koalja: pipeline '{duplicate.Key}' is given {duplicate.Count()} times; pipeline names must be unique");
            failed = true;
        }

        if (failed)
        {
            return 1;
        }

        if (taskUrlsFile is not null)
        {
            var (urls, problem) = TaskUrls.Read(taskUrlsFile, pipelines);
            if (urls is null)
            {
                stderr.WriteLine($"koalja: --task-urls {taskUrlsFile}: {problem}");
                return 1;
            }

            options = options with { TaskUrls = urls };
        }

        foreach (var (pipeline, task) in pipelines.SelectMany(p => p.Spec.Tasks.Select(t => (p, t))))
        {
            if (task.Executor?.Image is { Length: > 0 } image)
            {
                stdout.WriteLine($"note: {pipeline.Name}/{task.Name}: image {image} is not used locally; its command runs on this machine");
            }
            else if (task.Inputs.Count > 0 && task.Executor is null && !TaskRuntime.RunnableTypes.Contains(task.Type))
            {
                stdout.WriteLine($"warning: {pipeline.Name}/{task.Name}: task type '{task.Type}' does not run locally; each of its snapshots is dead-lettered at once, without retries");
            }
            else if (task.Inputs.Count == 0 && task.Type is { Length: > 0 } type && type != BuiltInTaskTypes.FileDrop)
            {
                stdout.WriteLine($"warning: {pipeline.Name}/{task.Name}: task type '{type}' has no inputs and does not run locally: it produces nothing, and what it feeds gets only what else reaches it");
            }

            if (task.EffectiveLaunchPolicy == LaunchPolicy.Restart && task.Service is not null)
            {
                stdout.WriteLine($"note: {pipeline.Name}/{task.Name}: launchPolicy Restart with a service is not run as a long-running service here: its command runs once per snapshot, like a batch task");
            }
        }

        if (options.TaskHost == LocalTaskHost.Functions)
        {
            stdout.WriteLine("Starting a task function worker per task (--task-host functions)...");
            stdout.Flush();
        }

        LocalServer server;
        try
        {
            server = await LocalServer.StartAsync(options, pipelines, logging => logging
                .AddKoaljaConsole(verbose)
                // Each execution and what the router does (resumes, retries) at Information; the web server's request log with --verbose.
                .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning)
                .AddFilter("Koalja.Router.Runtime", LogLevel.Information)
                .AddFilter("Microsoft", verbose ? LogLevel.Information : LogLevel.Warning)
                // The host logs a failed start (a port in use) with its stack trace before it throws; the catch below says it in one line.
                .AddFilter("Microsoft.Extensions.Hosting", verbose ? LogLevel.Information : LogLevel.None), cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.Net.Sockets.SocketException
            or BackendException or Storage.StorageConfigurationException or Storage.StorageUnavailableException
            or Microsoft.Extensions.Options.OptionsValidationException or TimeoutException or SandboxException)
        {
            stderr.WriteLine($"koalja: {e.Message}");
            return 1;
        }

        await using (server)
        {
            var url = server.Url.ToString().TrimEnd('/');
            var dataShown = Path.GetRelativePath(Environment.CurrentDirectory, server.DataRoot);
            dataShown = dataShown.StartsWith("..", StringComparison.Ordinal) ? server.DataRoot : "./" + dataShown;
            var keysShown = Path.Combine(dataShown, "keys.json");
            // The client commands find this server through its data directory: name it when it is not the default.
            var dataOption = Path.GetFullPath(options.DataDirectory) == Path.GetFullPath(".koalja") ? "" : $" --data {dataShown}";
            var loopback = System.Net.IPAddress.IsLoopback(options.ListenAddress);
            var keyHeader = loopback ? "" : $" -H \"x-functions-key: $(jq -r .function {keysShown})\"";
            foreach (var pipeline in pipelines)
            {
                stdout.WriteLine($"Koalja {Version} — pipeline {pipeline.Name} ({pipeline.Spec.Tasks.Count} tasks, {pipeline.Spec.Links.Count} links) — {url}   data: {dataShown}");
                foreach (var drop in pipeline.Spec.Tasks.Where(t => t.Type == BuiltInTaskTypes.FileDrop))
                {
                    stdout.WriteLine($"  drop data:  curl -X POST{keyHeader} {url}/pipelines/{pipeline.Name}/{drop.Name} --data-binary @FILE");
                }

                if (pipeline.Spec.Tasks.Any(t => t.Type == BuiltInTaskTypes.FileDrop))
                {
                    stdout.WriteLine($"  events:     curl{keyHeader} {url}/api/pipelines/{pipeline.Name}/events -H 'ce-specversion: 1.0' -H 'ce-id: ID' -H 'ce-source: /me' -H 'ce-type: TYPE' --data-binary @FILE");
                    stdout.WriteLine($"  live:       curl -N{keyHeader} {url}/api/pipelines/{pipeline.Name}/events");
                }

                foreach (var sink in pipeline.Spec.Tasks.Where(t => t.Type == BuiltInTaskTypes.CloudEventSink))
                {
                    stdout.WriteLine($"  sink:       {sink.Name} delivers to {sink.Option(CloudEventSinkOptions.UrlOption)} ({sink.Option(CloudEventSinkOptions.ModeOption) ?? "binary"} mode)");
                }

                if (pipeline.Spec.Tasks.FirstOrDefault(t => t.SnapshotInputs.Any() && t.Type != BuiltInTaskTypes.FileDrop && t.Type != BuiltInTaskTypes.CloudEventSink) is { } first)
                {
                    stdout.WriteLine($"  drop code:  {CliApp.Self} code {pipeline.Name}/{first.Name} FILE{dataOption}   (a script or a .zip/.tar.gz)");
                    stdout.WriteLine($"  follow:     {CliApp.Self} status {pipeline.Name}{dataOption}; {CliApp.Self} logs {pipeline.Name}/{first.Name} --follow{dataOption}");
                }
            }

            stdout.WriteLine($"Values stored in {Shown(Describe(server.Store))}; registry: {Shown(server.Router.Registry.Location)} ({server.Router.Registry.Engine}).");
            switch (server.Isolation)
            {
                case { Sandboxed: true } sandboxed:
                    stdout.WriteLine($"Commands run in a sandbox per worker slot: {sandboxed.Description}.");
                    break;
                case { IsWarning: true } unsandboxed:
                    stdout.WriteLine($"warning: {unsandboxed.Description}. Run only code you trust, or install bubblewrap; --sandbox off says you mean it.");
                    break;
                case not null when options.Sandbox == SandboxMode.Off:
                    stdout.WriteLine("note: commands run without a sandbox (--sandbox off), with this server's access to files and processes.");
                    break;
            }

            if (server.Workers is { } workers)
            {
                stdout.WriteLine($"Tasks run in {workers.Count} Functions worker process(es) ({string.Join(", ", workers.Select(w => $"{w.Name}: pid {w.ProcessId}"))}), each snapshot sent over HTTP.");
            }

            if (options.TaskHost == LocalTaskHost.Remote)
            {
                stdout.WriteLine($"Tasks run in task functions elsewhere ({string.Join(", ", options.TaskUrls.Select(u => $"{u.Key.Task}: {u.Value}"))}), each snapshot sent over HTTP to the least busy replica.");
            }

            if (server.ScalerUrl is { } scaler)
            {
                stdout.WriteLine($"KEDA external scaler (gRPC, h2c) at {scaler.Authority}: scalerMetadata pipeline, task, targetSnapshotsPerReplica, maxReplicas.");
            }

            stdout.WriteLine($"API keys in {keysShown}: the admin key drops code, the function key drops data{(loopback ? " (not needed on 127.0.0.1)" : "")}; the koalja CLI sends them itself.");
            stdout.WriteLine("Press Ctrl+C to stop.");
            stdout.Flush();
            await WaitForStopAsync(cancellationToken);
            stdout.WriteLine("Stopping: running executions are abandoned and run again at the next start.");
        }

        return 0;
    }

    internal static async Task WaitForStopAsync(CancellationToken cancellationToken)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.TrySetResult();
        });
        using var registration = cancellationToken.Register(() => stop.TrySetResult());
        await stop.Task;
    }

    /// <summary>A path under the working directory as ./relative; anything else as it is.</summary>
    private static string Shown(string location) =>
        Path.IsPathFullyQualified(location) && Path.GetRelativePath(Environment.CurrentDirectory, location) is var relative && !relative.StartsWith("..", StringComparison.Ordinal)
            ? "./" + relative : location;

    private static string Describe(Storage.IArtifactStore store) => store switch
    {
        Storage.S3ArtifactStore s3 => s3.Describe,
        Storage.BlobArtifactStore blob => blob.Describe,
        Storage.LocalArtifactStore local => local.Root,
        _ => store.GetType().Name,
    };

    private static string Version => typeof(UpCommand).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}" : "0.1";
}
