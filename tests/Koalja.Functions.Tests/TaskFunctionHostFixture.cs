using Koalja.Functions.Host;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Tests;

/// <summary>One protocol host running one worker of the real task function app, shared by the tests that do not disturb it.</summary>
public sealed class TaskFunctionHostFixture : IAsyncLifetime
{
    public const string WorkerName = "tasks";

    /// <summary>Small, so that the 413 test needs no big upload; a snapshot event is a few KB.</summary>
    public const long MaxBody = 1024 * 1024;

    /// <summary>The name the worker reports as who ran each execution, as a task pod's is.</summary>
    public const string PodName = "wire-tasks-7c9d5b8f6-q2x4z";

    private readonly ILoggerFactory _logs;

    public TaskFunctionHostFixture()
    {
        Root = System.IO.Directory.CreateTempSubdirectory("koalja-fn-tests-").FullName;
        _logs = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
    }

    internal CapturingLoggerProvider Logs { get; } = new();

    public string Root { get; }

    public LocalFunctionsHost Host { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>How long the start took, for the report of timings.</summary>
    public TimeSpan Started { get; private set; }

    public async Task InitializeAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var worker = TaskFunctionApp.Worker(WorkerName, Root);
        worker = worker with { Environment = new Dictionary<string, string>(worker.Environment) { ["KOALJA_WORKER_NAME"] = PodName } };
        Host = await LocalFunctionsHost.StartAsync([worker], new FunctionsHostOptions { MaxRequestBodyBytes = MaxBody, DefaultWorker = WorkerName }, _logs, CancellationToken.None);
        Started = clock.Elapsed;
        Http = new HttpClient { BaseAddress = Host.BaseUrl(WorkerName), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
        _logs.Dispose();
        System.IO.Directory.Delete(Root, recursive: true);
    }
}
