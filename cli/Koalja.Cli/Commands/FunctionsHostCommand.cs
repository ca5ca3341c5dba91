using System.CommandLine;
using System.Net;
using Koalja.Functions.Host;
using Koalja.Router.Hosting;
using Microsoft.Extensions.Logging;

namespace Koalja.Cli.Commands;

/// <summary>
/// <c>koalja functions-host</c>: runs the task function app under Koalja's protocol-level Functions host
/// (functions/Koalja.Functions.Host), serving its functions at <c>/api/{route}</c> on one port as the Functions host
/// does. It is what the cluster tests' task image runs, where the Functions host itself cannot be had (docs/functions-host.md);
/// the production image runs the real host (infra/docker/task-runtime.Dockerfile). The worker gets this process's
/// environment (the store's settings, <c>KOALJA_ROUTER_URL</c>, <c>KOALJA_COMMAND_TIMEOUT</c>). It stops on SIGTERM,
/// finishing what is in flight first.
/// </summary>
internal static class FunctionsHostCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var app = new Option<string?>("--app") { Description = "The built task function app (default: KOALJA_FUNCTIONS_APP, else the one ./koalja builds)" };
        var listen = new Option<string>("--listen") { Description = "The address the functions are served on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "The port the functions are served on", DefaultValueFactory = _ => 8080 };
        var drain = new Option<double?>("--drain-timeout") { Description = "Seconds a stop waits for invocations in flight (default: KOALJA_COMMAND_TIMEOUT plus 10, else 30)" };
        var command = new Command("functions-host", "Serve the task function app under Koalja's protocol-level Functions host (the cluster tests' task image)")
        {
            app, listen, port, drain,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!IPAddress.TryParse(parse.GetValue(listen), out var address))
            {
                stderr.WriteLine($"koalja: --listen '{parse.GetValue(listen)}' is not an IP address");
                return 1;
            }

            if (parse.GetValue(port) is < 1 or > 65535)
            {
                stderr.WriteLine($"koalja: --port {parse.GetValue(port)} is not a port (1 to 65535)");
                return 1;
            }

            string folder;
            try
            {
                folder = LocalFunctionWorkers.FindApp(parse.GetValue(app));
            }
            catch (InvalidOperationException e)
            {
                stderr.WriteLine($"koalja: {e.Message}");
                return 1;
            }

            var drainSeconds = parse.GetValue(drain)
                ?? (int.TryParse(Environment.GetEnvironmentVariable("KOALJA_COMMAND_TIMEOUT"), out var timeout) && timeout > 0 ? timeout + 10 : 30);
            var options = new FunctionsHostOptions
            {
                FrontDoorEndpoint = new IPEndPoint(address, parse.GetValue(port)),
                DefaultWorker = Worker,
                DrainTimeout = TimeSpan.FromSeconds(Math.Max(0, drainSeconds)),
            };
            using var logs = LoggerFactory.Create(b => b
                .AddKoaljaConsole()
                .AddFilter("Microsoft.AspNetCore", LogLevel.Warning));
            LocalFunctionsHost host;
            try
            {
                host = await LocalFunctionsHost.StartAsync([new WorkerSpec(Worker, folder, new Dictionary<string, string>())], options, logs, cancellationToken);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
            {
                stderr.WriteLine($"koalja: the task function did not start: {e.Message}");
                return 1;
            }

            await using (host)
            {
                stdout.WriteLine($"Task function app {folder} served at http://{address}:{parse.GetValue(port)}/api/ (worker PID {host.ProcessId(Worker)})");
                stdout.Flush();
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    stdout.WriteLine("Stopping: finishing the invocations in flight");
                }
            }

            return 0;
        });
        return command;
    }

    private const string Worker = "task";
}
